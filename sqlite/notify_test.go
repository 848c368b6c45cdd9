package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/livedash/livedash"
)

// TestNotificationQueue: queueing a key twice keeps the first; the cursor
// is saved with the items; due ones come in pages, earliest first; a
// reschedule and a removal are durable across a reopen.
func TestNotificationQueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	s := openStore(t, path, Options{})
	n := func(id, rcv string, next int64) livedash.Notification {
		return livedash.Notification{Key: livedash.NotificationKey(id, rcv), ID: id, Receiver: rcv, Body: []byte(`{"id":"` + id + `"}`), Created: 1, NextAt: next}
	}
	if c, err := s.NotifyCursor(ctx); err != nil || c != nil {
		t.Fatalf("cursor before any enqueue: %q %v", c, err)
	}
	if err := s.EnqueueNotifications(ctx, []livedash.Notification{n("1-a", "ops", 30), n("2-a", "ops", 10), n("2-a", "chat", 10)}, []byte(`{"seq":2}`)); err != nil {
		t.Fatal(err)
	}
	dup := n("1-a", "ops", 5)
	dup.Body = []byte("changed")
	if err := s.EnqueueNotifications(ctx, []livedash.Notification{dup}, nil); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.NotifyCursor(ctx); string(c) != `{"seq":2}` {
		t.Fatalf("cursor %q: a nil cursor must leave it", c)
	}
	due, err := s.DueNotifications(ctx, "ops", 20, 10)
	if err != nil || len(due) != 1 || due[0].ID != "2-a" {
		t.Fatalf("due at 20: %+v %v", due, err)
	}
	due, _ = s.DueNotifications(ctx, "ops", 100, 1)
	if len(due) != 1 || due[0].ID != "2-a" {
		t.Fatalf("first page of one: %+v", due)
	}
	if err := s.RescheduleNotification(ctx, due[0].Key, 3, 50); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveNotification(ctx, livedash.NotificationKey("2-a", "chat")); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openStore(t, path, Options{})
	due, _ = s.DueNotifications(ctx, "ops", 100, 10)
	if len(due) != 2 || due[0].ID != "1-a" || string(due[0].Body) != `{"id":"1-a"}` || due[1].ID != "2-a" || due[1].Attempts != 3 || due[1].NextAt != 50 {
		t.Fatalf("after reopen: %+v", due)
	}
	if at, ok, _ := s.NextNotification(ctx, "ops"); !ok || at != 30 {
		t.Fatalf("next %d %v", at, ok)
	}
	if _, ok, _ := s.NextNotification(ctx, "chat"); ok {
		t.Fatal("a removed notification is still queued")
	}
}
