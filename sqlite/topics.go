package sqlite

import "github.com/livedash/livedash"

// HasTopic reports whether topic has been stored (ingest.Topics).
func (s *Store) HasTopic(topic string) bool {
	s.mu.RLock()
	_, ok := s.topics[topic]
	s.mu.RUnlock()
	return ok
}

// TopicCount is the number of stored topics, the server's own sys. topics
// excluded (ingest.Topics).
func (s *Store) TopicCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.topics) - s.sysTopics
}

// addTopic records a topic's state; the caller holds s.mu.
func (s *Store) addTopic(t *topicState) {
	s.topics[t.name] = t
	s.byID[t.id] = t
	if livedash.IsSys(t.name) {
		s.sysTopics++
	}
}
