//go:build !linux

package bench

import (
	"errors"
	"net"
)

const reactorSupported = false

type reactor struct{}

type polledStream struct{ end chan error }

func newReactor(int) (*reactor, error) { return nil, errors.New("polled readers need Linux") }
func (*reactor) close()                {}
func (*reactor) add(*net.TCPConn, func([]byte) error) (*polledStream, error) {
	return nil, errors.New("polled readers need Linux")
}
func (*polledStream) stop(error) {}
