package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// sseParser turns the bytes of an SSE stream, fed in pieces of any size,
// into events: fn gets each event's type, id and data (valid during the
// call only). Only the id, event, data and retry fields are read; comments
// are skipped. A retry field sets *retry when retry is not nil.
type sseParser struct {
	fn    func(typ, id, data []byte) error
	retry *time.Duration

	line          []byte // an incomplete line carried to the next feed
	typ, id, data []byte
}

// feed parses b; an error from fn stops it and is returned.
func (p *sseParser) feed(b []byte) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.line = append(p.line, b...)
			return nil
		}
		line := b[:i]
		if len(p.line) > 0 {
			p.line = append(p.line, line...)
			line = p.line
		}
		b = b[i+1:]
		if err := p.handle(bytes.TrimSuffix(line, []byte("\r"))); err != nil {
			return err
		}
		p.line = p.line[:0]
	}
	return nil
}

func (p *sseParser) handle(line []byte) error {
	if len(line) == 0 {
		var err error
		if len(p.data) > 0 {
			err = p.fn(p.typ, p.id, bytes.TrimSuffix(p.data, []byte("\n")))
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
		if ms, err := strconv.Atoi(string(value)); err == nil && ms >= 0 && p.retry != nil {
			*p.retry = time.Duration(ms) * time.Millisecond
		}
	}
	return nil
}

// readSSE reads Server-Sent Events from r until it ends (io.ErrUnexpectedEOF:
// a stream never ends on its own) or fn returns an error.
func readSSE(r io.Reader, retry *time.Duration, fn func(typ, id, data []byte) error) error {
	p := &sseParser{fn: fn, retry: retry}
	buf := make([]byte, sseBufferSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if ferr := p.feed(buf[:n]); ferr != nil {
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

// errChunking is a malformed chunked body.
var errChunking = errors.New("malformed chunked encoding")

// chunkDecoder undoes HTTP/1.1 chunked transfer coding on bytes fed in
// pieces of any size, passing the body on; io.EOF marks the last chunk.
type chunkDecoder struct {
	state chunkState
	left  int64  // bytes of the current chunk still to come
	line  []byte // an incomplete size line
}

type chunkState uint8

const (
	chunkSize chunkState = iota
	chunkData
	chunkEnd // the CRLF after a chunk's data
	chunkDone
)

func (d *chunkDecoder) feed(b []byte, out func([]byte) error) error {
	for len(b) > 0 {
		switch d.state {
		case chunkSize:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				if d.line = append(d.line, b...); len(d.line) > 4096 {
					return errChunking
				}
				return nil
			}
			d.line = append(d.line, b[:i]...)
			b = b[i+1:]
			size, _, _ := bytes.Cut(bytes.TrimSuffix(d.line, []byte("\r")), []byte(";"))
			n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
			d.line = d.line[:0]
			if err != nil || n < 0 {
				return fmt.Errorf("%w: chunk size %q", errChunking, size)
			}
			if n == 0 {
				d.state = chunkDone
				return io.EOF
			}
			d.left, d.state = n, chunkData
		case chunkData:
			k := min(int64(len(b)), d.left)
			if err := out(b[:k]); err != nil {
				return err
			}
			b, d.left = b[k:], d.left-k
			if d.left == 0 {
				d.state = chunkEnd
			}
		case chunkEnd:
			c := b[0]
			b = b[1:]
			if c == '\n' {
				d.state = chunkSize
			} else if c != '\r' {
				return errChunking
			}
		case chunkDone:
			return io.EOF
		}
	}
	return nil
}
