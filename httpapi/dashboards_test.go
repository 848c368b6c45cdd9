package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/livedash/livedash/dashboard"
)

// TestFileDashboardsAreReadOnly: PUT or DELETE on a dashboard defined in a
// file (or built in) is 409, and it is still served unchanged; other names
// are stored as usual.
func TestFileDashboardsAreReadOnly(t *testing.T) {
	host := dashboard.Defaults()[0]
	e := newEnv(t, func(c *envConfig) { c.files = dashboard.Defaults() })
	before := getDashboard(t, e, host.Name)
	board := `{"title":"Mine","widgets":[{"id":"w","type":"stat","topics":["a"]}]}`
	if status, body := e.do("PUT", "/api/v1/dashboards/"+host.Name, e.admin, board); status != 409 || !strings.Contains(body, "read-only") {
		t.Fatalf("PUT over a built-in dashboard: %d %s", status, body)
	}
	if status, _ := e.do("DELETE", "/api/v1/dashboards/"+host.Name, e.admin, ""); status != 409 {
		t.Fatalf("DELETE of a built-in dashboard: %d", status)
	}
	if after := getDashboard(t, e, host.Name); after != before {
		t.Fatalf("built-in dashboard changed:\n%s\n%s", before, after)
	}
	if status, body := e.do("PUT", "/api/v1/dashboards/"+host.Name+"-copy", e.admin, board); status != 200 {
		t.Fatalf("PUT of a copy: %d %s", status, body)
	}
}

// TestDashboardETag: a page polling its definition gets 304 until it
// changes, then the new definition with a new ETag.
func TestDashboardETag(t *testing.T) {
	e := newEnv(t)
	put := func(title string) {
		if status, body := e.do("PUT", "/api/v1/dashboards/d", e.admin, `{"title":"`+title+`","widgets":[{"id":"w","type":"stat","topics":["a"]}]}`); status != 200 {
			t.Fatalf("put: %d %s", status, body)
		}
	}
	get := func(etag string) (int, string) {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/dashboards/d", nil)
		req.Header.Set("Authorization", "Bearer "+e.admin)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("ETag")
	}
	put("One")
	status, tag1 := get("")
	if status != 200 || tag1 == "" {
		t.Fatalf("first get: %d etag %q", status, tag1)
	}
	if status, _ := get(tag1); status != 304 {
		t.Fatalf("unchanged: %d, want 304", status)
	}
	put("Two")
	status, tag2 := get(tag1)
	if status != 200 || tag2 == tag1 || tag2 == "" {
		t.Fatalf("after a change: %d etag %q (was %q)", status, tag2, tag1)
	}
}

func getDashboard(t *testing.T, e *env, name string) string {
	t.Helper()
	status, body := e.do("GET", "/api/v1/dashboards/"+name, e.admin, "")
	if status != 200 {
		t.Fatalf("GET %s: %d %s", name, status, body)
	}
	return body
}

// TestDashboardBodyIsOneValue: a PUT body with a second JSON value or YAML
// document after the dashboard was stored from its first one.
func TestDashboardBodyIsOneValue(t *testing.T) {
	e := newEnv(t)
	board := `{"title":"A","widgets":[{"id":"w","type":"stat","topics":["a"]}]}`
	for _, body := range []string{board + ` {"title":"B"}`, board + "\n---\n" + board, board + "\n]"} {
		if status, resp := e.do("PUT", "/api/v1/dashboards/d", e.admin, body); status != 400 || !strings.HasPrefix(resp, `{"error":`) {
			t.Errorf("PUT %q: %d %s, want 400", body, status, resp)
		}
	}
	if status, _ := e.do("GET", "/api/v1/dashboards/d", e.admin, ""); status != 404 {
		t.Fatalf("a refused PUT stored the dashboard: %d", status)
	}
	if status, resp := e.do("PUT", "/api/v1/dashboards/d", e.admin, board+"\n\n"); status != 200 {
		t.Fatalf("trailing white space: %d %s", status, resp)
	}
}

// TestDashboardReadOnlyHeader: GET of a dashboard defined in a file (or
// built in) says so in Livedash-Read-Only, so the editor can offer "copy to
// edit" before a PUT fails with 409; a dashboard stored through the API has
// no such header.
func TestDashboardReadOnlyHeader(t *testing.T) {
	host := dashboard.Defaults()[0]
	e := newEnv(t, func(c *envConfig) { c.files = dashboard.Defaults() })
	if status, body := e.do("PUT", "/api/v1/dashboards/mine", e.admin, `{"widgets":[{"id":"w","type":"stat","topics":["a"]}]}`); status != 200 {
		t.Fatalf("put: %d %s", status, body)
	}
	readOnly := func(name string) string {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/dashboards/"+name, nil)
		req.Header.Set("Authorization", "Bearer "+e.admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", name, resp.StatusCode)
		}
		return resp.Header.Get("Livedash-Read-Only")
	}
	if got := readOnly(host.Name); got != "file" {
		t.Errorf("built-in %s: Livedash-Read-Only = %q, want file", host.Name, got)
	}
	if got := readOnly("mine"); got != "" {
		t.Errorf("stored dashboard: Livedash-Read-Only = %q, want none", got)
	}
}

// TestDamagedStoredDashboardLeftOut: a stored record that does not decode
// made the whole list a 500 for everyone; it is left out (and logged).
func TestDamagedStoredDashboardLeftOut(t *testing.T) {
	e := newEnv(t)
	if status, body := e.do("PUT", "/api/v1/dashboards/good", e.admin, `{"title":"Good","widgets":[{"id":"w","type":"stat","topics":["a"]}]}`); status != 200 {
		t.Fatalf("put: %d %s", status, body)
	}
	if err := e.store.PutDashboard(context.Background(), "broken", []byte(`{"title":`)); err != nil {
		t.Fatal(err)
	}
	status, body := e.do("GET", "/api/v1/dashboards", e.admin, "")
	if status != 200 || !strings.Contains(body, `"name":"good"`) || strings.Contains(body, "broken") {
		t.Fatalf("list with a damaged record: %d %s", status, body)
	}
}

// TestCORSExposesRetryAfter: a page on another origin can read how long
// to back off after a 429.
func TestCORSExposesRetryAfter(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.cfg.CORSOrigins = []string{"*"} })
	req, _ := http.NewRequest("GET", e.url+"/api/v1/topics", nil)
	req.Header.Set("Origin", "https://blog.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Expose-Headers"); got != "Retry-After" {
		t.Fatalf("Access-Control-Expose-Headers = %q", got)
	}
}

// TestAccessNamesWhatTheCallerMayRead: the patterns of one stream that
// covers everything a caller may read, which the home page subscribes to,
// so public topics show up live for viewers without a token too.
func TestAccessNamesWhatTheCallerMayRead(t *testing.T) {
	e := newEnv(t, withPublic("status.>", "blog.*.views"))
	for _, tc := range []struct {
		name, token, want string
	}{
		{"anonymous", "", `{"admin":false,"read":["blog.*.views","status.>"]}`},
		{"viewer", e.grantToken("shop.>", "sub", "in.>", "pub"), `{"sub":"user","admin":false,"read":["blog.*.views","shop.>","status.>"]}`},
		{"admin", e.admin, `{"sub":"tester","admin":true,"read":[">","sys.>"]}`},
	} {
		status, body := e.do("GET", "/api/v1/access", tc.token, "")
		var got, want any
		json.Unmarshal([]byte(body), &got)
		json.Unmarshal([]byte(tc.want), &want)
		if status != 200 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d %s, want %s", tc.name, status, body, tc.want)
		}
	}
	if status, _ := e.do("GET", "/api/v1/access", "not-a-token", ""); status != 401 {
		t.Fatalf("bad token: %d", status)
	}
}
