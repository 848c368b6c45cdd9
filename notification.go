package livedash

// Notification is one alert notification waiting to be delivered to one
// receiver: package notify queues them, the store (sqlite, or redisbroker
// in a cluster) keeps them until they are sent or given up.
type Notification struct {
	// Key is unique in the queue: ID and Receiver. Queueing the same key
	// twice keeps the first.
	Key string `json:"key"`
	// ID is the alert message's id; every try of the notification carries
	// it, so a receiver can drop repeats.
	ID       string `json:"id"`
	Receiver string `json:"receiver"`
	// Body is the request body, rendered once: every try sends the same
	// bytes (and so the same signature).
	Body []byte `json:"body"`
	// Created is when it was queued (unix ms); retries stop a receiver's
	// retry_for after it.
	Created int64 `json:"created"`
	// Attempts counts the tries made so far.
	Attempts int `json:"attempts"`
	// NextAt is when the next try is due (unix ms).
	NextAt int64 `json:"next_at"`
}

// NotificationKey is the queue key of the notification id for receiver.
func NotificationKey(id, receiver string) string { return id + " " + receiver }
