package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/livedash/livedash/sse"
)

// readSSE reads Server-Sent Events from r until it ends (io.ErrUnexpectedEOF:
// a stream never ends on its own) or fn returns an error.
func readSSE(r io.Reader, retry *time.Duration, fn func(typ, id, data []byte) error) error {
	p := &sse.Parser{Event: fn, Retry: retry}
	return p.ReadStream(r, sseBufferSize)
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
