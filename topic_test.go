package livedash

import "testing"

func TestValidateTopic(t *testing.T) {
	long := ""
	for len(long) < MaxTopicLen {
		long += "a"
	}
	for _, tc := range []struct {
		topic string
		ok    bool
	}{
		{"host.cpu", true},
		{"blog.post-17.views", true},
		{"A_b-9", true},
		{long, true},
		{long + "b", false},
		{"", false},
		{".a", false},
		{"a.", false},
		{"a..b", false},
		{"a.*", false},
		{"a.>", false},
		{"a b", false},
		{"a/b", false},
		{"ünï", false},
		{"a.b\n", false},
	} {
		t.Run(tc.topic, func(t *testing.T) {
			err := ValidateTopic(tc.topic)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateTopic(%q) = %v, want ok=%v", tc.topic, err, tc.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("code = %s, want %s", ErrorCode(err), EINVALID)
			}
		})
	}
}

func TestValidatePattern(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{">", true}, {"*", true}, {"shop.*", true}, {"shop.>", true}, {"*.cpu", true}, {"a.*.c.>", true},
		{"a.>.b", false}, {"a*", false}, {"a.b*", false}, {">.a", false}, {"", false}, {"a..>", false},
	} {
		if err := ValidatePattern(tc.p); (err == nil) != tc.ok {
			t.Errorf("ValidatePattern(%q) = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, topic string
		want           bool
	}{
		{"shop.orders", "shop.orders", true},
		{"shop.orders", "shop.order", false},
		{"shop.orders", "shop.orders.x", false},
		{"shop.*", "shop.orders", true},
		{"shop.*", "shop.a.b", false},
		{"shop.*", "shop", false},
		{"shop.>", "shop.a", true},
		{"shop.>", "shop.a.b.c", true},
		{"shop.>", "shop", false},
		{">", "anything.at.all", true},
		{">", "x", true},
		{"*", "x", true},
		{"*", "x.y", false},
		{"*.cpu", "host.cpu", true},
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a.b.d", false},
		// sys topics are reached only by patterns that start with sys.
		{">", "sys.connections", false},
		{"*.connections", "sys.connections", false},
		{"*.>", "sys.connections", false},
		{"sys.>", "sys.connections", true},
		{"sys.*", "sys.connections", true},
		{"sys.connections", "sys.connections", true},
		{">", "sys", true}, // a one-segment topic named sys is not under sys.
	} {
		if got := Match(tc.pattern, tc.topic); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.topic, got, tc.want)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		outer, inner string
		want         bool
	}{
		{">", "shop.orders", true},
		{">", "shop.>", true},
		{">", ">", true},
		{">", "sys.x", false},
		{">", "sys.>", false},
		{"sys.>", "sys.x", true},
		{"sys.>", ">", false},
		{"shop.*", "shop.orders", true},
		{"shop.*", "shop.*", true},
		{"shop.*", "shop.a.b", false},
		{"shop.*", "shop.>", false},
		{"shop.*", ">", false},
		{"shop.*", "admin.x", false},
		{"shop.>", "shop.*", true},
		{"shop.>", "shop.a.b", true},
		{"shop.>", "shop", false},
		{"shop.orders", "shop.orders", true},
		{"shop.orders", "shop.*", false},
		{"*.cpu", "host.cpu", true},
		{"*.cpu", "*.cpu", true},
		{"*.cpu", ">", false},
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a.>", false},
	} {
		if got := Covers(tc.outer, tc.inner); got != tc.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tc.outer, tc.inner, got, tc.want)
		}
	}
}

// FuzzCovers checks Covers against Match: if outer covers inner, every
// topic inner matches is matched by outer.
func FuzzCovers(f *testing.F) {
	f.Add("shop.*", "shop.orders", "shop.orders")
	f.Add(">", "sys.>", "sys.a")
	f.Add("a.>", "a.*.c", "a.b.c")
	f.Fuzz(func(t *testing.T, outer, inner, topic string) {
		if ValidatePattern(outer) != nil || ValidatePattern(inner) != nil || ValidateTopic(topic) != nil {
			return
		}
		if Covers(outer, inner) && Match(inner, topic) && !Match(outer, topic) {
			t.Fatalf("Covers(%q, %q) but %q matches only the inner", outer, inner, topic)
		}
	})
}
