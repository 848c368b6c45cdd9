package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/pubsub"
)

// WebSocket close codes livedash uses beyond the standard ones.
const (
	closeSlowConsumer = websocket.StatusCode(4000) // fell behind: resume with since
	closeTokenExpired = websocket.StatusCode(4001) // token expired: reconnect with a fresh one
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

type wsIncoming struct {
	typ  websocket.MessageType
	data []byte
}

// handleWebSocket serves the JSON op protocol of the contract.
func (s *Server) handleWebSocket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.access(r)
		if err == nil {
			err = s.checkCookieOrigin(r)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		release, ok := s.admitStream(w, r, a, "ws")
		if !ok {
			return
		}
		defer release()
		compression := websocket.CompressionDisabled
		if s.cfg.WebSocketCompression {
			compression = websocket.CompressionContextTakeover
		}
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			OriginPatterns:  s.wsOrigins(),
			Subprotocols:    []string{subprotocolJSON, subprotocolCBOR},
			CompressionMode: compression,
		})
		if err != nil {
			return // Accept has answered the client
		}
		defer conn.CloseNow()
		limit := int64(s.cfg.Limits.RequestBytes)
		if limit <= 0 {
			limit = 1 << 20
		}
		conn.SetReadLimit(limit + 4096)

		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		in := make(chan wsIncoming, 8)
		go func() {
			defer close(in)
			for {
				typ, data, err := conn.Read(ctx)
				if err != nil {
					return
				}
				select {
				case in <- wsIncoming{typ, data}:
				case <-ctx.Done():
					return
				}
			}
		}()

		c := &wsConn{s: s, conn: conn, ctx: ctx, access: a, caller: callerOf(r, a), sess: pubsub.NewSession(s.hub, s.store, true, int64(s.cfg.Limits.BacklogBytes)),
			binary: conn.Subprotocol() == subprotocolCBOR}
		defer c.sess.Close()
		code, reason := c.loop(in)
		c.sess.Close() // free the subscription before the close handshake
		conn.Close(code, reason)
	})
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

func (s *Server) wsOrigins() []string {
	var out []string
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" {
			return []string{"*"}
		}
		// OriginPatterns match the host part only.
		if _, host, ok := strings.Cut(o, "://"); ok {
			o = host
		}
		out = append(out, o)
	}
	return out
}

// wsConn is one WebSocket client; its loop is the only writer.
type wsConn struct {
	s      *Server
	conn   *websocket.Conn
	ctx    context.Context
	access auth.Access
	caller caller // whom its publishes count against
	sess   *pubsub.Session
	binary bool // CBOR frames (subprotocol livedash.cbor)
}

func (c *wsConn) loop(in <-chan wsIncoming) (websocket.StatusCode, string) {
	s := c.s
	heartbeat, expired, stop := s.streamTimers(c.access)
	defer stop()
	for {
		select {
		case msg, ok := <-in:
			if !ok {
				return websocket.StatusNormalClosure, ""
			}
			if err := c.handle(msg); err != nil {
				return websocket.StatusInternalError, "write failed"
			}
		case <-c.sess.Ready():
			if err := c.sess.Live(c); err != nil {
				return websocket.StatusInternalError, "write failed"
			}
		case <-c.sess.Done():
			if errors.Is(c.sess.Err(), hub.ErrSlow) {
				s.slowConsumer("ws", c.access.Subject(), c.sess.Dropped())
				return closeSlowConsumer, "slow consumer: reconnect and resume with since"
			}
			return websocket.StatusNormalClosure, ""
		case <-heartbeat:
			ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
			err := c.conn.Ping(ctx)
			cancel()
			if err != nil {
				return websocket.StatusGoingAway, "ping failed"
			}
		case <-expired:
			return closeTokenExpired, "token expired"
		case <-c.ctx.Done():
			return websocket.StatusGoingAway, ""
		case <-s.streams.Done():
			return websocket.StatusGoingAway, "server is shutting down"
		}
	}
}

// handle answers one client frame. Only a failed write is returned: bad
// frames get an error op and the connection goes on.
func (c *wsConn) handle(msg wsIncoming) error {
	data := msg.data
	if msg.typ != websocket.MessageText {
		if !c.binary {
			return c.reply(wsReply{Op: "error", Code: "bad_request", Message: "binary frames need the livedash.cbor subprotocol; send JSON text frames"})
		}
		j, err := cborToJSON(data)
		if err != nil {
			return c.reply(wsReply{Op: "error", Code: "bad_request", Message: err.Error()})
		}
		data = j
	}
	var op wsOp
	if err := livedash.DecodeJSON(data, &op, false); err != nil {
		return c.reply(wsReply{Op: "error", Ref: refOf(data), Code: "bad_request", Message: "bad frame: " + err.Error()})
	}
	op.Ref = readableRef(op.Ref)
	switch op.Op {
	case "subscribe":
		return c.subscribe(op)
	case "unsubscribe":
		patterns, err := c.patterns(op)
		if err != nil {
			return c.replyErr(op.Ref, err)
		}
		c.sess.Unsubscribe(patterns)
		return c.reply(wsReply{Op: "ok", Ref: op.Ref})
	case "publish":
		return c.publish(op)
	case "ping":
		return c.reply(wsReply{Op: "pong", Ref: op.Ref})
	case "":
		return c.replyErr(op.Ref, livedash.Errorf(livedash.EINVALID, "op is required"))
	}
	return c.replyErr(op.Ref, livedash.Errorf(livedash.EINVALID, "unknown op %q (use subscribe, unsubscribe, publish, ping)", op.Op))
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

func (c *wsConn) patterns(op wsOp) ([]string, error) {
	if len(op.Topics) == 0 {
		return nil, livedash.Errorf(livedash.EINVALID, "topics is required (an array of topics or patterns)")
	}
	return validPatterns(op.Topics)
}

func (c *wsConn) subscribe(op wsOp) error {
	patterns, err := c.patterns(op)
	if err != nil {
		return c.replyErr(op.Ref, err)
	}
	if err := c.access.CheckRead(patterns); err != nil {
		return c.replyErr(op.Ref, err)
	}
	if max := c.s.cfg.Limits.PatternsPerConnection; max > 0 && c.sess.Patterns()+len(patterns) > max {
		return c.replyErr(op.Ref, livedash.Errorf(livedash.ETOOLARGE,
			"this connection would hold %d topic patterns; the limit is %d (limits.patterns_per_connection): unsubscribe some first",
			c.sess.Patterns()+len(patterns), max))
	}
	backlog := pubsub.DefaultBacklog
	if op.Backlog != nil {
		if *op.Backlog < 0 {
			return c.replyErr(op.Ref, livedash.Errorf(livedash.EINVALID, "backlog must be >= 0"))
		}
		backlog = *op.Backlog
	}
	if err := c.reply(wsReply{Op: "ok", Ref: op.Ref}); err != nil {
		return err
	}
	return c.sess.Subscribe(c.ctx, patterns, op.Since, backlog, c)
}

func (c *wsConn) publish(op wsOp) error {
	if len(op.Messages) == 0 {
		return c.replyErr(op.Ref, livedash.Errorf(livedash.EINVALID, "messages is required (an array of messages)"))
	}
	body, _ := json.Marshal(op.Messages)
	msgs, err := livedash.DecodePublish(body, c.s.now())
	if err != nil {
		return c.replyErr(op.Ref, err)
	}
	if err := c.s.mayPublish(c.access, c.caller, msgs); err != nil {
		if rl, ok := err.(rateLimited); ok {
			err = rl.err
		}
		return c.replyErr(op.Ref, err)
	}
	start := time.Now()
	frames, err := c.s.broker.Append(c.ctx, msgs)
	if err != nil {
		return c.replyErr(op.Ref, err)
	}
	c.s.events.Published(len(frames), time.Since(start))
	ids := make([]string, len(frames))
	for i, f := range frames {
		ids[i] = f.ID.String()
	}
	return c.reply(wsReply{Op: "ok", Ref: op.Ref, IDs: ids})
}

func (c *wsConn) replyErr(ref json.RawMessage, err error) error {
	code := livedash.ErrorCode(err)
	if code == livedash.EINTERNAL {
		c.s.log.Error("websocket op failed", "err", err)
	}
	rep := wsReply{Op: "error", Ref: ref, Code: wsCode(code), Message: livedash.ErrorMessage(err)}
	var e *livedash.Error
	if errors.As(err, &e) && e.Index >= 0 {
		rep.Index = &e.Index
	}
	return c.reply(rep)
}

func (c *wsConn) reply(r wsReply) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if c.binary {
		if b, err = jsonToCBOR(b); err != nil {
			return err
		}
	}
	return c.write(b)
}

func (c *wsConn) write(b []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
	defer cancel()
	typ := websocket.MessageText
	if c.binary {
		typ = websocket.MessageBinary
	}
	return c.conn.Write(ctx, typ, b)
}

// Frame sends a message op (pubsub.Emitter).
func (c *wsConn) Frame(f *livedash.Frame) error {
	b := f.WS
	if c.binary {
		b = f.Binary(cborMessage)
	}
	if err := c.write(b); err != nil {
		return err
	}
	c.s.events.Delivered("ws", 1)
	return nil
}

// Reset sends a reset op (pubsub.Emitter).
func (c *wsConn) Reset(patterns []string, reason string) error {
	return c.reply(wsReply{Op: "reset", Topics: patterns, Reason: reason})
}
