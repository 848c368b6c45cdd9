// Package sse parses Server-Sent Events (text/event-stream), as the
// stream endpoint sends them, for the Go client and the bench: one parser
// that takes the bytes in pieces of any size and allocates nothing once
// its buffers have grown to the stream's longest line and event.
package sse

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"
)

// ErrLineTooLong is a line longer than Parser.MaxLine.
var ErrLineTooLong = errors.New("sse: line too long")

// Parser turns an event stream into events. Only the id, event, data and
// retry fields are read; comments (the heartbeat) are skipped. The zero
// value with Event set is ready to use.
type Parser struct {
	// Event is called for each event with its type ("" when the server
	// named none), the stream's last event id (an event without an id
	// field keeps the one before it, as in EventSource) and its data. The
	// slices are valid during the call only; an error stops the parse and
	// is returned by Feed.
	Event func(typ, id, data []byte) error
	// Retry, when not nil, is set by a retry field.
	Retry *time.Duration
	// MaxLine bounds a line's length; 0: no bound.
	MaxLine int

	line          []byte // an incomplete line carried to the next feed
	typ, id, data []byte
}

// Feed parses b, which may end anywhere, even inside a line.
func (p *Parser) Feed(b []byte) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.line = append(p.line, b...)
			return p.checkLine(len(p.line))
		}
		line := b[:i]
		if len(p.line) > 0 {
			p.line = append(p.line, line...)
			line = p.line
		}
		if err := p.checkLine(len(line)); err != nil {
			return err
		}
		b = b[i+1:]
		if err := p.handle(bytes.TrimSuffix(line, []byte("\r"))); err != nil {
			return err
		}
		p.line = p.line[:0]
	}
	return nil
}

func (p *Parser) checkLine(n int) error {
	if p.MaxLine > 0 && n > p.MaxLine {
		return ErrLineTooLong
	}
	return nil
}

func (p *Parser) handle(line []byte) error {
	if len(line) == 0 {
		var err error
		if len(p.data) > 0 {
			err = p.Event(p.typ, p.id, bytes.TrimSuffix(p.data, []byte("\n")))
		}
		p.typ, p.data = p.typ[:0], p.data[:0]
		return err
	}
	if line[0] == ':' {
		return nil
	}
	field, value, _ := bytes.Cut(line, []byte(":"))
	value = bytes.TrimPrefix(value, []byte(" "))
	switch string(field) {
	case "id":
		p.id = append(p.id[:0], value...)
	case "event":
		p.typ = append(p.typ[:0], value...)
	case "data":
		p.data = append(append(p.data, value...), '\n')
	case "retry":
		if ms, err := strconv.Atoi(string(value)); err == nil && ms >= 0 && p.Retry != nil {
			*p.Retry = time.Duration(ms) * time.Millisecond
		}
	}
	return nil
}

// ReadStream feeds what r gives, read bufSize bytes at a time, until r
// fails or Event returns an error. A stream never ends on its own, so
// its end is io.ErrUnexpectedEOF.
func (p *Parser) ReadStream(r io.Reader, bufSize int) error {
	buf := make([]byte, bufSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if ferr := p.Feed(buf[:n]); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
}
