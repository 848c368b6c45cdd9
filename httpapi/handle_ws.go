package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/klauspost/compress/flate"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/pubsub"
	"github.com/livedash/livedash/push"
)

// WebSocket close codes livedash uses beyond the standard ones.
const (
	closeSlowConsumer ws.StatusCode = 4000 // fell behind: resume with since
	closeTokenExpired ws.StatusCode = 4001 // token expired: reconnect with a fresh one
)

// wsOp is a client's frame.
type wsOp struct {
	Op       string            `json:"op"`
	Ref      json.RawMessage   `json:"ref,omitempty"`
	Topics   []string          `json:"topics,omitempty"`
	Since    string            `json:"since,omitempty"`
	Backlog  *int              `json:"backlog,omitempty"`
	Messages []json.RawMessage `json:"messages,omitempty"`
}

// wsReply is a server frame other than a message.
type wsReply struct {
	Op      string          `json:"op"`
	Ref     json.RawMessage `json:"ref,omitempty"`
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Index   *int            `json:"index,omitempty"`
	IDs     []string        `json:"ids,omitempty"`
	Topics  []string        `json:"topics,omitempty"`
	Reason  string          `json:"reason,omitempty"`
}

// wsCodes maps error codes to the contract's WebSocket error codes.
func wsCode(code string) string {
	switch code {
	case livedash.EINVALID:
		return "bad_request"
	case livedash.EUNAUTHORIZED:
		return "unauthorized"
	case livedash.EFORBIDDEN:
		return "forbidden"
	case livedash.ETOOLARGE:
		return "too_large"
	case livedash.ERATELIMITED:
		return "rate_limited"
	case livedash.EUNAVAILABLE:
		return "unavailable"
	}
	return "internal"
}

// handleWebSocket serves the JSON (or CBOR) op protocol of the contract on
// the delivery engine: after the handshake the connection is a Stream of
// the server's pool like an SSE stream, with client frames handed to it
// as they arrive.
func (s *Server) handleWebSocket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.access(r)
		if err == nil {
			err = s.checkCookieOrigin(r)
		}
		if err == nil {
			err = s.checkOrigin(r)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		release, ok := s.admitStream(w, r, a, "ws")
		if !ok {
			return
		}
		pool, err := s.engine()
		if err != nil {
			release()
			s.writeError(w, r, err)
			return
		}
		st := newWSStream(s, a, callerOf(r, a), release)
		up := ws.HTTPUpgrader{
			Timeout:  writeTimeout,
			Protocol: func(p string) bool { return p == subprotocolJSON || p == subprotocolCBOR },
		}
		if s.cfg.WebSocketCompression {
			up.Negotiate = st.negotiate
		}
		nc, brw, hs, err := up.Upgrade(r, w)
		if err != nil {
			// Upgrade has answered the client.
			if nc != nil {
				nc.Close()
			}
			release()
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.status = http.StatusSwitchingProtocols
		}
		st.binary = hs.Protocol == subprotocolCBOR
		if s.canPool(r, "ws") {
			pending, _ := brw.Reader.Peek(brw.Reader.Buffered())
			c, err := pool.Add(nc, st, s.until(a), pending)
			if err != nil {
				st.Closed(err)
				return
			}
			st.start(c)
			return
		}
		// Attached (TLS): this goroutine writes, another reads.
		out := &connWriter{Writer: bufio.NewWriterSize(nc, 4096), nc: nc}
		if err := pool.Serve(s.streams, out, st, s.until(a), brw.Reader, st.start); errors.Is(err, push.ErrPoolClosed) && !st.closed.Load() {
			st.Closed(err)
		}
		nc.Close()
	})
}

// connWriter is an attached WebSocket's push.Writer over its connection.
type connWriter struct {
	*bufio.Writer
	nc net.Conn
}

func (w *connWriter) SetWriteDeadline(t time.Time) error { return w.nc.SetWriteDeadline(t) }

// checkOrigin refuses (EFORBIDDEN) a handshake from a browser page on
// another host unless cors_origins lists its origin (or is ["*"]).
func (s *Server) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil {
		return livedash.Errorf(livedash.EFORBIDDEN, "bad Origin %q", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return nil
		}
		// An entry without a scheme names a host pattern (path.Match).
		if !strings.Contains(o, "://") {
			if ok, _ := path.Match(strings.ToLower(o), strings.ToLower(u.Host)); ok {
				return nil
			}
		}
	}
	return livedash.Errorf(livedash.EFORBIDDEN, "WebSocket connections from %s are not allowed; list it in cors_origins", origin)
}

// checkCookieOrigin refuses (EFORBIDDEN) a handshake from another origin
// that only the cookie authorises, unless cors_origins lists that origin:
// any site can make a browser open a WebSocket here, and the browser sends
// the cookie along. cors_origins ["*"] lists no origin.
func (s *Server) checkCookieOrigin(r *http.Request) error {
	if _, cookie := auth.TokenOf(r); !cookie {
		return nil
	}
	origin := r.Header.Get("Origin")
	if origin == "" || s.originListed(origin) {
		return nil
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	return livedash.Errorf(livedash.EFORBIDDEN, "a WebSocket from %s may not use the %s cookie; send the token as ?token=", origin, auth.CookieName)
}

// maxOutBytes bounds the replies and history a WebSocket stream holds
// before the pool has taken them: past it, the client's op waits (and its
// connection reads nothing more) until they are written.
const maxOutBytes = 256 << 10

// The reasons a WebSocket stream ends on its client's account; each has
// its close frame (Goodbye).
var (
	errPeerClosed   = errors.New("client closed the WebSocket")
	errTooBig       = errors.New("WebSocket message too big")
	errBadDeflate   = errors.New("bad compressed WebSocket message")
	errStreamClosed = errors.New("stream closed")
	errNoPong       = errors.New("WebSocket peer answered no ping")
)

// wsProtocolError is a client frame that breaks RFC 6455 or 7692.
type wsProtocolError struct{ err error }

func (e wsProtocolError) Error() string { return "WebSocket protocol error: " + e.err.Error() }

// wsStream is a WebSocket connection's side of the delivery engine
// (push.Stream). Its writes go through the pool: replies and history wait
// in out, in order, and Fill hands them over ahead of the live frames.
// Client frames are parsed from the bytes Receive is given, and each op
// is handled on the reading goroutine.
type wsStream struct {
	s       *Server
	access  auth.Access
	caller  caller // whom its publishes count against
	release func()
	limit   int  // the largest message a client may send
	binary  bool // CBOR frames (subprotocol livedash.cbor)
	deflate bool // permessage-deflate, server_no_context_takeover
	// window keeps the client's recent uncompressed bytes when it
	// compresses with context takeover (the dictionary of its next message).
	clientWindow bool

	conn   atomic.Pointer[push.Conn]
	closed atomic.Bool
	// lastInput and pingAt (unix ns) tell a peer that answers no ping.
	lastInput, pingAt atomic.Int64

	// sessMu serialises the session: ops (Subscribe, Unsubscribe) on the
	// reading goroutine, Live in Fill. Fill only tries it: while an op
	// holds it, live frames wait in the hub and history flows through out.
	sessMu sync.Mutex
	sess   *pubsub.Session

	outMu    sync.Mutex
	outCond  sync.Cond
	out      net.Buffers
	outBytes int
	hasOut   atomic.Bool // out is not empty: Fill takes outMu only then

	// Used by one goroutine at a time: Fill's.
	bufs   net.Buffers
	frames int
	// Used by one goroutine at a time: Receive's.
	in         []byte // a partial frame
	msg        []byte // a fragmented message so far
	msgOp      ws.OpCode
	msgDeflate bool
	fragmented bool
	window     []byte
	peerClose  []byte // the close frame answering the client's
}

func newWSStream(s *Server, a auth.Access, c caller, release func()) *wsStream {
	limit := s.cfg.Limits.RequestBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	st := &wsStream{s: s, access: a, caller: c, release: release, limit: int(limit) + 4096,
		sess: pubsub.NewSession(s.hub, s.store, true, int64(s.cfg.Limits.BacklogBytes))}
	st.outCond.L = &st.outMu
	return st
}

// negotiate accepts permessage-deflate (RFC 7692) without server context
// takeover, so that one compressed frame serves every connection. An
// offer that limits the server's window is declined: the frames are made
// with the full window.
func (st *wsStream) negotiate(opt httphead.Option) (httphead.Option, error) {
	if st.deflate || !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
		return httphead.Option{}, nil
	}
	var p wsflate.Parameters
	if err := p.Parse(opt); err != nil {
		return httphead.Option{}, nil
	}
	if p.ServerMaxWindowBits.Defined() && p.ServerMaxWindowBits < 15 {
		return httphead.Option{}, nil
	}
	st.deflate = true
	st.clientWindow = !p.ClientNoContextTakeover
	return wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: p.ClientNoContextTakeover}.Option(), nil
}

// start joins the stream to its connection.
func (st *wsStream) start(c *push.Conn) {
	st.conn.Store(c)
	joinSession(st.sess, c)
}

func (st *wsStream) wake() {
	if c := st.conn.Load(); c != nil {
		c.Wake()
	}
}

// enqueue puts b after what waits in out, waiting while out is full.
func (st *wsStream) enqueue(b []byte) error {
	st.outMu.Lock()
	for st.outBytes > maxOutBytes && !st.closed.Load() {
		st.outCond.Wait()
	}
	if st.closed.Load() {
		st.outMu.Unlock()
		return errStreamClosed
	}
	st.out = append(st.out, b)
	st.outBytes += len(b)
	st.hasOut.Store(true)
	st.outMu.Unlock()
	st.wake()
	return nil
}

// session runs fn with the session to itself, then wakes the connection
// for the live frames that may have waited meanwhile.
func (st *wsStream) session(fn func(*pubsub.Session) error) error {
	st.sessMu.Lock()
	err := fn(st.sess)
	st.sessMu.Unlock()
	st.wake()
	return err
}

func (st *wsStream) Fill(bufs net.Buffers) (net.Buffers, error) {
	live := st.sessMu.TryLock()
	if st.hasOut.Load() {
		st.outMu.Lock()
		bufs = append(bufs, st.out...)
		clear(st.out)
		st.out, st.outBytes = st.out[:0], 0
		st.hasOut.Store(false)
		st.outCond.Broadcast()
		st.outMu.Unlock()
	}
	if !live {
		return bufs, nil
	}
	st.bufs, st.frames = bufs, 0
	err := st.sess.Live(st)
	st.sessMu.Unlock()
	if st.frames > 0 {
		st.s.events.Delivered("ws", st.frames)
	}
	bufs, st.bufs = st.bufs, nil
	return bufs, err
}

// Frame adds a live frame (pubsub.Emitter, for Fill).
func (st *wsStream) Frame(f *livedash.Frame) error {
	st.bufs = append(st.bufs, st.s.wsWire.frame(f, st.binary, st.deflate))
	st.frames++
	return nil
}

// Reset adds a reset op (pubsub.Emitter, for Fill).
func (st *wsStream) Reset(patterns []string, reason string) error {
	st.bufs = append(st.bufs, st.encode(wsReply{Op: "reset", Topics: patterns, Reason: reason}))
	return nil
}

// wsHistory emits a subscription's history through out.
type wsHistory struct{ st *wsStream }

func (h wsHistory) Frame(f *livedash.Frame) error {
	if err := h.st.enqueue(h.st.s.wsWire.frame(f, h.st.binary, h.st.deflate)); err != nil {
		return err
	}
	h.st.s.events.Delivered("ws", 1)
	return nil
}

func (h wsHistory) Reset(patterns []string, reason string) error {
	return h.st.reply(wsReply{Op: "reset", Topics: patterns, Reason: reason})
}

var pingFrame = wsFrame(ws.OpPing, false, nil)

// Heartbeat pings a quiet connection; a peer that sent nothing (no pong)
// since the previous ping is gone, and the connection ends.
func (st *wsStream) Heartbeat() []byte {
	now := time.Now().UnixNano()
	if at := st.pingAt.Load(); at != 0 && st.lastInput.Load() < at {
		if c := st.conn.Load(); c != nil {
			c.End(errNoPong)
			return nil
		}
	}
	st.pingAt.Store(now)
	return pingFrame
}

// Goodbye is the close frame for why the server ends the connection.
func (st *wsStream) Goodbye(reason error) []byte {
	var pe wsProtocolError
	switch {
	case errors.Is(reason, errPeerClosed):
		return st.peerClose
	case errors.Is(reason, hub.ErrSlow):
		return wsClose(closeSlowConsumer, "slow consumer: reconnect and resume with since")
	case errors.Is(reason, push.ErrExpired):
		return wsClose(closeTokenExpired, "token expired")
	case errors.Is(reason, push.ErrPoolClosed):
		return wsClose(ws.StatusGoingAway, "server is shutting down")
	case errors.Is(reason, errNoPong):
		return wsClose(ws.StatusGoingAway, "no answer to ping")
	case errors.Is(reason, errTooBig):
		return wsClose(ws.StatusMessageTooBig, fmt.Sprintf("messages are limited to %d bytes", st.limit))
	case errors.Is(reason, errBadDeflate):
		return wsClose(ws.StatusUnsupportedData, "bad compressed message")
	case errors.As(reason, &pe):
		return wsClose(ws.StatusProtocolError, pe.err.Error())
	}
	return wsClose(ws.StatusInternalServerError, "internal error")
}

func (st *wsStream) Closed(reason error) {
	if st.closed.Swap(true) {
		return
	}
	st.outMu.Lock()
	st.outCond.Broadcast()
	st.outMu.Unlock()
	st.sess.Close()
	if errors.Is(reason, errPeerClosed) {
		reason = push.ErrClientLeft
	}
	st.s.streamEnded("ws", st.access.Subject(), st.sess.Dropped, reason, st.release)
}

// Receive parses the client's frames from p (and what an earlier call
// left of a frame) and handles each complete message.
func (st *wsStream) Receive(p []byte) error {
	st.lastInput.Store(time.Now().UnixNano())
	st.in = append(st.in, p...)
	in := st.in
	var err error
	for err == nil {
		var n int
		n, err = st.nextFrame(in)
		if n == 0 {
			break
		}
		in = in[n:]
	}
	// Keep only a partial frame, in a buffer of its own size.
	if len(in) == 0 {
		st.in = nil
	} else {
		st.in = append([]byte(nil), in...)
	}
	return err
}

// nextFrame handles the first frame of in and returns its length; 0 means
// in holds no whole frame yet.
func (st *wsStream) nextFrame(in []byte) (int, error) {
	if len(in) < 2 {
		return 0, nil
	}
	r := bytes.NewReader(in)
	h, err := ws.ReadHeader(r)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return 0, nil
	}
	if err != nil {
		return 0, wsProtocolError{err}
	}
	state := ws.StateServerSide
	if st.deflate {
		state = state.Set(ws.StateExtended)
	}
	if st.fragmented {
		state = state.Set(ws.StateFragmented)
	}
	if err := ws.CheckHeader(h, state); err != nil {
		return 0, wsProtocolError{err}
	}
	if h.Rsv&^ws.Rsv(true, false, false) != 0 || (h.Rsv1() && h.OpCode != ws.OpText && h.OpCode != ws.OpBinary) {
		return 0, wsProtocolError{errors.New("reserved bits set")}
	}
	if h.Length > int64(st.limit) {
		return 0, errTooBig
	}
	head := len(in) - r.Len()
	if int64(len(in)-head) < h.Length {
		return 0, nil
	}
	end := head + int(h.Length)
	payload := in[head:end]
	ws.Cipher(payload, h.Mask, 0)
	return end, st.handleFrame(h, payload)
}

// handleFrame answers control frames and puts data frames together into
// messages. payload is only valid during the call.
func (st *wsStream) handleFrame(h ws.Header, payload []byte) error {
	switch h.OpCode {
	case ws.OpPing:
		return st.enqueue(wsFrame(ws.OpPong, false, payload))
	case ws.OpPong:
		return nil
	case ws.OpClose:
		return st.closing(payload)
	case ws.OpText, ws.OpBinary:
		st.msgOp, st.msgDeflate = h.OpCode, h.Rsv1()
		if h.Fin {
			return st.message(payload)
		}
		st.msg = append(st.msg[:0], payload...)
		st.fragmented = true
		return nil
	}
	// A continuation.
	if len(st.msg)+len(payload) > st.limit {
		return errTooBig
	}
	st.msg = append(st.msg, payload...)
	if !h.Fin {
		return nil
	}
	msg := st.msg
	st.msg, st.fragmented = nil, false
	return st.message(msg)
}

// closing answers the client's close frame with the same code and ends
// the stream.
func (st *wsStream) closing(payload []byte) error {
	if len(payload) == 0 {
		st.peerClose = wsFrame(ws.OpClose, false, nil)
		return errPeerClosed
	}
	code, _ := ws.ParseCloseFrameData(payload)
	if len(payload) == 1 || code < 1000 || code.IsProtocolReserved() || (code >= 1016 && code < 3000) || code > 4999 {
		return wsProtocolError{fmt.Errorf("bad close code %d", code)}
	}
	st.peerClose = wsClose(code, "")
	return errPeerClosed
}

// inflateTail ends a compressed message: the flush marker the sender left
// out, then an empty final block so that the reader ends cleanly.
var inflateTail = []byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}

// message handles one whole client message.
func (st *wsStream) message(data []byte) error {
	if st.msgDeflate {
		fr := flate.NewReaderDict(io.MultiReader(bytes.NewReader(data), bytes.NewReader(inflateTail)), st.window)
		out, err := io.ReadAll(io.LimitReader(fr, int64(st.limit)+1))
		fr.Close()
		switch {
		case err != nil:
			return errBadDeflate
		case len(out) > st.limit:
			return errTooBig
		}
		if st.clientWindow {
			st.window = append(st.window, out...)
			if over := len(st.window) - wsflate.MaxLZ77WindowSize; over > 0 {
				st.window = append([]byte(nil), st.window[over:]...)
			}
		}
		data = out
	}
	return st.handle(st.msgOp, data)
}

// handle answers one client message. Only a failed stream is returned:
// bad messages get an error op and the connection goes on.
func (st *wsStream) handle(typ ws.OpCode, data []byte) error {
	if typ != ws.OpText {
		if !st.binary {
			return st.reply(wsReply{Op: "error", Code: "bad_request", Message: "binary frames need the livedash.cbor subprotocol; send JSON text frames"})
		}
		j, err := cborToJSON(data)
		if err != nil {
			return st.reply(wsReply{Op: "error", Code: "bad_request", Message: err.Error()})
		}
		data = j
	}
	var op wsOp
	if err := livedash.DecodeJSON(data, &op, false); err != nil {
		return st.reply(wsReply{Op: "error", Ref: refOf(data), Code: "bad_request", Message: "bad frame: " + err.Error()})
	}
	op.Ref = readableRef(op.Ref)
	switch op.Op {
	case "subscribe":
		return st.subscribe(op)
	case "unsubscribe":
		patterns, err := opPatterns(op)
		if err != nil {
			return st.replyErr(op.Ref, err)
		}
		st.session(func(sess *pubsub.Session) error {
			sess.Unsubscribe(patterns)
			return nil
		})
		return st.reply(wsReply{Op: "ok", Ref: op.Ref})
	case "publish":
		return st.publish(op)
	case "ping":
		return st.reply(wsReply{Op: "pong", Ref: op.Ref})
	case "":
		return st.replyErr(op.Ref, livedash.Errorf(livedash.EINVALID, "op is required"))
	}
	return st.replyErr(op.Ref, livedash.Errorf(livedash.EINVALID, "unknown op %q (use subscribe, unsubscribe, publish, ping)", op.Op))
}

// refOf reads the ref of a frame that did not decode as an op (a field of
// the wrong type, bytes after the object), so the error still names the
// request it answers; nil when the frame starts with no JSON object.
func refOf(frame []byte) json.RawMessage {
	var r struct {
		Ref json.RawMessage `json:"ref"`
	}
	if json.NewDecoder(bytes.NewReader(frame)).Decode(&r) != nil {
		return nil
	}
	return readableRef(r.Ref)
}

// readableRef keeps a ref the client can read back: a string, or a number
// that float64 holds. Anything else (an object, 1e700) is dropped rather
// than echoed in a form the client may fail to parse.
func readableRef(ref json.RawMessage) json.RawMessage {
	if len(ref) == 0 {
		return nil
	}
	switch c := ref[0]; {
	case c == '"':
		return ref
	case c == '-' || c >= '0' && c <= '9':
		if _, err := strconv.ParseFloat(string(ref), 64); err == nil {
			return ref
		}
	}
	return nil
}

func opPatterns(op wsOp) ([]string, error) {
	if len(op.Topics) == 0 {
		return nil, livedash.Errorf(livedash.EINVALID, "topics is required (an array of topics or patterns)")
	}
	return validPatterns(op.Topics)
}

func (st *wsStream) subscribe(op wsOp) error {
	patterns, err := opPatterns(op)
	if err != nil {
		return st.replyErr(op.Ref, err)
	}
	if err := st.access.CheckRead(patterns); err != nil {
		return st.replyErr(op.Ref, err)
	}
	backlog := pubsub.DefaultBacklog
	if op.Backlog != nil {
		if *op.Backlog < 0 {
			return st.replyErr(op.Ref, livedash.Errorf(livedash.EINVALID, "backlog must be >= 0"))
		}
		backlog = *op.Backlog
	}
	return st.session(func(sess *pubsub.Session) error {
		if max := st.s.cfg.Limits.PatternsPerConnection; max > 0 && sess.Patterns()+len(patterns) > max {
			return st.replyErr(op.Ref, livedash.Errorf(livedash.ETOOLARGE,
				"this connection would hold %d topic patterns; the limit is %d (limits.patterns_per_connection): unsubscribe some first",
				sess.Patterns()+len(patterns), max))
		}
		if err := st.reply(wsReply{Op: "ok", Ref: op.Ref}); err != nil {
			return err
		}
		return sess.Subscribe(st.s.streams, patterns, op.Since, backlog, wsHistory{st})
	})
}

func (st *wsStream) publish(op wsOp) error {
	if len(op.Messages) == 0 {
		return st.replyErr(op.Ref, livedash.Errorf(livedash.EINVALID, "messages is required (an array of messages)"))
	}
	body, _ := json.Marshal(op.Messages)
	msgs, err := livedash.DecodePublish(body, st.s.now())
	if err != nil {
		return st.replyErr(op.Ref, err)
	}
	if err := st.s.mayPublish(st.access, st.caller, msgs); err != nil {
		if rl, ok := err.(rateLimited); ok {
			err = rl.err
		}
		return st.replyErr(op.Ref, err)
	}
	start := time.Now()
	frames, err := st.s.broker.Append(st.s.streams, msgs)
	if err != nil {
		return st.replyErr(op.Ref, err)
	}
	st.s.events.Published(len(frames), time.Since(start))
	ids := make([]string, len(frames))
	for i, f := range frames {
		ids[i] = f.ID.String()
	}
	return st.reply(wsReply{Op: "ok", Ref: op.Ref, IDs: ids})
}

func (st *wsStream) replyErr(ref json.RawMessage, err error) error {
	code := livedash.ErrorCode(err)
	if code == livedash.EINTERNAL {
		st.s.log.Error("websocket op failed", "err", err)
	}
	rep := wsReply{Op: "error", Ref: ref, Code: wsCode(code), Message: livedash.ErrorMessage(err)}
	var e *livedash.Error
	if errors.As(err, &e) && e.Index >= 0 {
		rep.Index = &e.Index
	}
	return st.reply(rep)
}

// encode is a server op as one frame for this connection.
func (st *wsStream) encode(r wsReply) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // wsReply holds only strings, numbers and raw JSON checked readable
	}
	if st.binary {
		if b, err = jsonToCBOR(b); err != nil {
			panic(err)
		}
		return wsFrame(ws.OpBinary, false, b)
	}
	return wsFrame(ws.OpText, false, b)
}

func (st *wsStream) reply(r wsReply) error { return st.enqueue(st.encode(r)) }
