// Package epoll is a small Linux epoll set that one goroutine waits on and
// another can stop: what the SSE pool's hang-up watcher (package push) and
// the bench tool's stream reader share. It has nothing on other systems;
// its callers are Linux-only files.
package epoll
