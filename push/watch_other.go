//go:build !linux

package push

import (
	"errors"
	"syscall"
)

const watcherSupported = false

var errUnsupported = errors.New("push connections need Linux")

type watcher struct{}

func newWatcher(func(*Conn)) (*watcher, error) { return nil, errUnsupported }
func (*watcher) add(*Conn) error               { return errUnsupported }
func (*watcher) remove(*Conn)                  {}
func (*watcher) close()                        {}

func writevNonBlocking(uintptr, [][]byte) (int, error) { return 0, syscall.EINVAL }
func readNonBlocking(uintptr, []byte) (int, error)     { return 0, syscall.EINVAL }
