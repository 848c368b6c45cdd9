package livedash

// TopicInfo describes one topic for GET /api/v1/topics.
type TopicInfo struct {
	Topic string
	Last  *Frame // nil when retention removed everything
	Count int64  // messages currently stored
}

// HistoryQuery selects stored messages. From (inclusive) and To (exclusive)
// filter on ts in unix ms; zero To means no upper bound. Without From, the
// newest Limit messages are returned; with it, the first Limit from From.
type HistoryQuery struct {
	Patterns []string
	From     *int64
	To       *int64
	Limit    int
}

// Bucket aggregates the numeric values of one topic over [T, T+step).
type Bucket struct {
	T     int64   `json:"t"`
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Avg   float64 `json:"avg"`
	Sum   float64 `json:"sum"`
	Last  float64 `json:"last"`
}

// Series is the buckets of one topic, in ascending T.
type Series struct {
	Topic   string   `json:"topic"`
	Buckets []Bucket `json:"buckets"`
}
