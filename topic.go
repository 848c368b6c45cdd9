package livedash

import (
	"strings"
)

// MaxTopicLen is the longest topic or pattern accepted, in bytes.
const MaxTopicLen = 200

// SysPrefix starts every topic that belongs to the server itself. Only the
// server publishes there and only admins read them; a pattern matches a sys
// topic only when the pattern itself starts with this prefix.
const SysPrefix = "sys."

// ValidateTopic reports whether s is a concrete topic: dot-separated
// segments of [A-Za-z0-9_-]+, at most MaxTopicLen bytes. Wildcards are not
// allowed. Returns an EINVALID error saying what is wrong.
func ValidateTopic(s string) error {
	return validateName(s, false)
}

// ValidatePattern reports whether s is a topic pattern: a topic whose
// segments may be "*" (exactly one segment) or, as the last segment, ">"
// (one or more trailing segments).
func ValidatePattern(s string) error {
	return validateName(s, true)
}

func validateName(s string, wildcards bool) error {
	what := "topic"
	if wildcards {
		what = "pattern"
	}
	if s == "" {
		return Errorf(EINVALID, "%s is empty", what)
	}
	if len(s) > MaxTopicLen {
		return Errorf(EINVALID, "%s is longer than %d characters", what, MaxTopicLen)
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			continue
		}
		seg := s[start:i]
		last := i == len(s)
		switch {
		case seg == "":
			return Errorf(EINVALID, "%s %q has an empty segment", what, s)
		case seg == "*" || seg == ">":
			if !wildcards {
				return Errorf(EINVALID, "topic %q has a wildcard; publish to a concrete topic", s)
			}
			if seg == ">" && !last {
				return Errorf(EINVALID, "pattern %q: '>' may only be the last segment", s)
			}
		default:
			for j := 0; j < len(seg); j++ {
				if !isSegmentByte(seg[j]) {
					return Errorf(EINVALID, "%s %q: character %q is not allowed (use A-Z a-z 0-9 _ -)", what, s, seg[j])
				}
			}
		}
		start = i + 1
	}
	return nil
}

func isSegmentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// IsSys reports whether a topic or pattern belongs to the server's own sys namespace.
func IsSys(topicOrPattern string) bool {
	return strings.HasPrefix(topicOrPattern, SysPrefix)
}

// Match reports whether the concrete topic matches pattern. Both are assumed
// valid. A pattern that does not start with "sys." never matches a sys topic.
func Match(pattern, topic string) bool {
	if IsSys(topic) && !IsSys(pattern) {
		return false
	}
	for {
		pseg, prest, pmore := strings.Cut(pattern, ".")
		if pseg == ">" {
			return topic != ""
		}
		tseg, trest, tmore := strings.Cut(topic, ".")
		if pseg != "*" && pseg != tseg {
			return false
		}
		if !pmore || !tmore {
			return pmore == tmore
		}
		pattern, topic = prest, trest
	}
}

// Covers reports whether every topic matched by inner is also matched by
// outer: the test for "is this subscription inside this grant". Both must be
// valid patterns (a concrete topic is a pattern too).
func Covers(outer, inner string) bool {
	if IsSys(inner) != IsSys(outer) {
		// A non-sys pattern matches no sys topic and a sys pattern only sys
		// topics, so the two sets are disjoint.
		return false
	}
	for {
		oseg, orest, omore := strings.Cut(outer, ".")
		iseg, irest, imore := strings.Cut(inner, ".")
		switch oseg {
		case ">":
			return true // inner has at least this segment left.
		case "*":
			if iseg == ">" {
				return false
			}
		default:
			if iseg != oseg {
				return false
			}
		}
		if !omore || !imore {
			return omore == imore
		}
		outer, inner = orest, irest
	}
}

// Sanitize makes s usable in a topic: every character outside
// [A-Za-z0-9_-] (and '.', when keepDots) becomes '_'. Each invalid UTF-8
// byte becomes one '_'. The result may still be an invalid topic (empty,
// an empty segment, too long): validate it.
func Sanitize(s string, keepDots bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case r == '.' && keepDots:
			b.WriteByte('.')
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
