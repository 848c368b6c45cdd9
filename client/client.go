// Package client is a Go client of the livedash HTTP API: publishing, and
// reading a Server-Sent Events stream that resumes by id after a dropped
// connection. The CLI, the tests and the load generator use it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/livedash/livedash/sse"
)

// Client talks to one livedash server.
type Client struct {
	BaseURL string // e.g. http://localhost:8080
	Token   string // sent as a Bearer token when set
	HTTP    *http.Client
}

// APIError is a non-2xx answer of the server.
type APIError struct {
	Status  int
	Message string
	Index   *int
}

func (e *APIError) Error() string {
	if e.Index != nil {
		return fmt.Sprintf("%d %s: item %d: %s", e.Status, http.StatusText(e.Status), *e.Index, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

// do sends a request and decodes a JSON answer into out.
func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return apiError(resp.StatusCode, body)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}

func apiError(status int, body []byte) error {
	var e struct {
		Error string `json:"error"`
		Index *int   `json:"index"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(body))
	}
	return &APIError{Status: status, Message: e.Error, Index: e.Index}
}

// PublishData publishes data (JSON) to topic with the given type ("" for point)
// and returns the new id.
func (c *Client) PublishData(ctx context.Context, topic, typ string, data []byte) (string, error) {
	path := "/api/v1/topics/" + url.PathEscape(topic)
	if typ != "" {
		path += "?type=" + url.QueryEscape(typ)
	}
	req, err := c.newRequest(ctx, http.MethodPost, path, data)
	if err != nil {
		return "", err
	}
	var out struct {
		IDs []string `json:"ids"`
	}
	if err := c.do(req, &out); err != nil {
		return "", err
	}
	if len(out.IDs) != 1 {
		return "", fmt.Errorf("server answered %d ids for one message", len(out.IDs))
	}
	return out.IDs[0], nil
}

// Message is one message to publish.
type Message struct {
	Topic string `json:"topic"`
	Type  string `json:"type,omitempty"`
	TS    any    `json:"ts,omitempty"`
	Data  any    `json:"data"`
}

// Publish publishes a batch and returns the ids in order.
func (c *Client) Publish(ctx context.Context, msgs []Message) ([]string, error) {
	body, err := json.Marshal(msgs)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, "/api/v1/publish", body)
	if err != nil {
		return nil, err
	}
	var out struct {
		IDs []string `json:"ids"`
	}
	if err := c.do(req, &out); err != nil {
		return nil, err
	}
	return out.IDs, nil
}

// Event is one Server-Sent Event.
type Event struct {
	ID string // the stream's last id: an event without one keeps the one before

	Type string // "message" when the server named none
	Data []byte
}

// Envelope is a delivered message.
type Envelope struct {
	ID    string          `json:"id"`
	Topic string          `json:"topic"`
	Type  string          `json:"type"`
	TS    int64           `json:"ts"`
	Data  json.RawMessage `json:"data"`
}

// StreamOptions select what a stream delivers.
type StreamOptions struct {
	Patterns []string
	Backlog  *int   // nil: the server's default
	Since    string // resume after this id
	// Retry is the wait before reconnecting; default 1s (the server's
	// retry: field overrides it).
	Retry time.Duration
	// OnError is told of connection errors that Stream recovers from.
	OnError func(error)
}

// Stream reads events from /api/v1/stream and calls fn for each, in order,
// reconnecting with Last-Event-ID after a dropped connection, until ctx is
// done or fn returns an error. A 4xx answer ends it with an *APIError.
func (c *Client) Stream(ctx context.Context, o StreamOptions, fn func(Event) error) error {
	q := url.Values{}
	for _, p := range o.Patterns {
		q.Add("topic", p)
	}
	if o.Backlog != nil {
		q.Set("backlog", strconv.Itoa(*o.Backlog))
	}
	last := o.Since
	retry := o.Retry
	if retry <= 0 {
		retry = time.Second
	}
	for {
		req, err := c.newRequest(ctx, http.MethodGet, "/api/v1/stream?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "text/event-stream")
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		err = c.readStream(req, func(ev Event) error {
			if ev.ID != "" {
				last = ev.ID
			}
			return fn(ev)
		}, &retry)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if e, ok := err.(*APIError); ok && e.Status/100 == 4 {
			return err
		}
		if e, ok := err.(callbackError); ok {
			return e.err
		}
		if o.OnError != nil {
			o.OnError(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retry):
		}
	}
}

type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// readStream reads one connection's events. It returns why it ended.
func (c *Client) readStream(req *http.Request, fn func(Event) error, retry *time.Duration) error {
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return apiError(resp.StatusCode, body)
	}
	p := &sse.Parser{Retry: retry, MaxLine: 4 << 20, Event: func(typ, id, data []byte) error {
		ev := Event{ID: string(id), Type: string(typ), Data: bytes.Clone(data)}
		if ev.Type == "" {
			ev.Type = "message"
		}
		if err := fn(ev); err != nil {
			return callbackError{err}
		}
		return nil
	}}
	return p.ReadStream(resp.Body, 32<<10)
}
