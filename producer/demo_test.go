package producer

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/livedash/livedash"
)

var demoStart = time.UnixMilli(1732262400000)

// runDemoSimulated runs d over the given simulated duration, feeding it
// ticks of d.Step (or the default) from demoStart, and returns every
// published message in order.
func runDemoSimulated(t *testing.T, d *Demo, duration time.Duration) []livedash.Message {
	t.Helper()
	pub := &recordingPublisher{}
	ticks := make(chan time.Time)
	d.Publisher = pub
	d.Ticks = ticks
	d.Now = func() time.Time { return demoStart }
	step := d.Step
	if step == 0 {
		step = DefaultDemoStep
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background()) }()
	for at := demoStart.Add(step); !at.After(demoStart.Add(duration)); at = at.Add(step) {
		select {
		case ticks <- at:
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		}
	}
	close(ticks)
	if err := <-done; err != nil {
		t.Fatalf("Run after its ticks were closed = %v, want nil", err)
	}
	var msgs []livedash.Message
	for _, b := range pub.recorded() {
		msgs = append(msgs, b...)
	}
	return msgs
}

// seconds returns the simulated seconds since demoStart of a message.
func seconds(m livedash.Message) float64 {
	return float64(m.TS-demoStart.UnixMilli()) / 1000
}

func TestDemoSimulatedMinutes(t *testing.T) {
	// Default settings: the first flash sale runs from 2:00 to 2:40.
	const saleFrom, saleTo = 120.0, 160.0
	msgs := runDemoSimulated(t, &Demo{Rand: rand.New(rand.NewPCG(42, 7))}, 5*time.Minute)

	wantTypes := map[string]string{
		"shop.orders": "event", "shop.revenue": "point", "shop.users.active": "point",
		"shop.inventory": "stats", "shop.latency": "point", "shop.errors": "point",
		"bot.latency": "point", "bot.events": "event",
		"alerts.low-stock": "alert", "alerts.error-rate": "alert",
	}
	seen := map[string]int{}
	for _, m := range msgs {
		seen[m.Topic]++
		if err := livedash.ValidateTopic(m.Topic); err != nil {
			t.Fatalf("invalid topic: %v", err)
		}
		if err := livedash.ValidateType(m.Type); err != nil {
			t.Fatalf("%s: invalid type: %v", m.Topic, err)
		}
		if want, ok := wantTypes[m.Topic]; !ok || m.Type != want {
			t.Fatalf("%s: type %q, want %q (known topic: %v)", m.Topic, m.Type, want, ok)
		}
		// The data must be what the server accepts for the type.
		in := livedash.PublishInput{Topic: m.Topic, Type: m.Type, Data: m.Data}
		if _, err := in.Validate(demoStart); err != nil {
			t.Fatalf("%s %s: fails publish validation: %v", m.Topic, m.Data, err)
		}
		if s := seconds(m); s <= 0 || s > 300 {
			t.Fatalf("%s: ts %d is %.2fs from the start, outside the simulated 5 minutes", m.Topic, m.TS, s)
		}
	}
	for topic := range wantTypes {
		if seen[topic] == 0 {
			t.Errorf("no message on %s in 5 simulated minutes", topic)
		}
	}

	t.Run("orders", func(t *testing.T) {
		ids := map[string]bool{}
		var totals, revenue []float64
		var normal, inSale int
		for _, m := range msgs {
			switch m.Topic {
			case "shop.revenue":
				var v float64
				if err := json.Unmarshal(m.Data, &v); err != nil {
					t.Fatalf("revenue %s: %v", m.Data, err)
				}
				revenue = append(revenue, v)
			case "shop.orders":
				var o orderData
				if err := json.Unmarshal(m.Data, &o); err != nil {
					t.Fatalf("order %s: %v", m.Data, err)
				}
				if o.OrderID == "" || ids[o.OrderID] || o.Customer == "" || o.Currency != "USD" || len(o.Items) == 0 {
					t.Fatalf("bad order (id unique: %v): %s", !ids[o.OrderID], m.Data)
				}
				ids[o.OrderID] = true
				var sum float64
				for _, it := range o.Items {
					if it.SKU == "" || it.Qty <= 0 || it.Price <= 0 {
						t.Fatalf("bad item in %s", m.Data)
					}
					sum += float64(it.Qty) * it.Price
				}
				if math.Abs(sum-o.Total) > 0.005 {
					t.Fatalf("order total %v, but the items sum to %v: %s", o.Total, sum, m.Data)
				}
				totals = append(totals, o.Total)
				switch s := seconds(m); {
				case s >= saleFrom && s < saleTo:
					inSale++
				case s < saleFrom:
					normal++
				}
			}
		}
		if !slices.Equal(totals, revenue) {
			t.Errorf("shop.revenue does not carry each order's total (%d orders, %d revenue points)", len(totals), len(revenue))
		}
		normalRate, saleRate := float64(normal)/saleFrom, float64(inSale)/(saleTo-saleFrom)
		if normalRate < 1.5 || normalRate > 8 {
			t.Errorf("%.1f orders/s before the sale, want several per second", normalRate)
		}
		if saleRate < 4*normalRate {
			t.Errorf("%.1f orders/s in the sale, want a jump from %.1f", saleRate, normalRate)
		}
	})

	t.Run("inventory", func(t *testing.T) {
		var first, minDuringSale map[string]int
		for _, m := range msgs {
			if m.Topic != "shop.inventory" {
				continue
			}
			var levels map[string]int
			if err := json.Unmarshal(m.Data, &levels); err != nil {
				t.Fatalf("inventory %s: %v", m.Data, err)
			}
			if len(levels) != 8 {
				t.Fatalf("inventory has %d SKUs, want 8: %s", len(levels), m.Data)
			}
			for sku, level := range levels {
				if level < 0 {
					t.Fatalf("negative stock for %s at %.1fs: %s", sku, seconds(m), m.Data)
				}
			}
			if first == nil {
				first, minDuringSale = levels, maps.Clone(levels)
			}
			if s := seconds(m); s <= saleTo {
				for sku, level := range levels {
					minDuringSale[sku] = min(minDuringSale[sku], level)
				}
			}
		}
		drained := 0
		for sku, level := range first {
			if minDuringSale[sku] < level/2 {
				drained++
			}
		}
		if drained < 3 {
			t.Errorf("only %d SKUs lost half their stock by the end of the sale; first %v, lowest %v", drained, first, minDuringSale)
		}
	})

	t.Run("low-stock alert fires, then resolves", func(t *testing.T) {
		firing := map[string]float64{} // sku → when its alert fired
		var firstFiring float64 = -1
		resolved := 0
		for _, m := range msgs {
			if m.Topic != "alerts.low-stock" {
				continue
			}
			var a lowStockAlertData
			if err := json.Unmarshal(m.Data, &a); err != nil {
				t.Fatalf("alert %s: %v", m.Data, err)
			}
			if a.Message == "" || a.SKU == "" || a.Threshold != DefaultLowStockThreshold {
				t.Fatalf("incomplete alert %s", m.Data)
			}
			switch a.State {
			case "firing":
				if a.Level >= a.Threshold || (a.Severity != "warning" && a.Severity != "critical") {
					t.Fatalf("bad firing alert %s", m.Data)
				}
				if _, ok := firing[a.SKU]; !ok {
					firing[a.SKU] = seconds(m)
				}
				if firstFiring < 0 {
					firstFiring = seconds(m)
				}
			case "resolved":
				if _, ok := firing[a.SKU]; !ok {
					t.Fatalf("resolved without firing: %s", m.Data)
				}
				if a.Level < a.Threshold || a.Severity != "info" {
					t.Fatalf("bad resolved alert %s", m.Data)
				}
				delete(firing, a.SKU)
				resolved++
			default:
				t.Fatalf("alert state %q", a.State)
			}
		}
		if firstFiring < 0 || firstFiring > 180 {
			t.Errorf("first low-stock alert at %.1fs, want within 3 minutes", firstFiring)
		}
		if resolved == 0 {
			t.Errorf("no low-stock alert resolved in 5 minutes")
		}
	})

	t.Run("error rate and its alert with hysteresis", func(t *testing.T) {
		var normal []float64
		maxInSale := 0.0
		for _, m := range msgs {
			if m.Topic != "shop.errors" {
				continue
			}
			var v float64
			if err := json.Unmarshal(m.Data, &v); err != nil || v < 0 {
				t.Fatalf("shop.errors %s (%v)", m.Data, err)
			}
			switch s := seconds(m); {
			case s < saleFrom:
				normal = append(normal, v)
			case s < saleTo:
				maxInSale = max(maxInSale, v)
			}
		}
		slices.Sort(normal)
		if p90 := normal[len(normal)*9/10]; p90 >= 2 {
			t.Errorf("90th percentile of the error rate before the sale is %.2f%%, want < 2", p90)
		}
		if maxInSale <= 5 {
			t.Errorf("error rate peaked at %.2f%% in the sale, want > 5", maxInSale)
		}
		var states []string
		for _, m := range msgs {
			if m.Topic != "alerts.error-rate" {
				continue
			}
			var a errorRateAlertData
			if err := json.Unmarshal(m.Data, &a); err != nil {
				t.Fatalf("alert %s: %v", m.Data, err)
			}
			if a.State == "firing" && (a.Value <= 5 || a.Severity != "critical") ||
				a.State == "resolved" && (a.Value >= 3 || a.Severity != "info") {
				t.Fatalf("alert %s breaks the 5%%/3%% thresholds", m.Data)
			}
			if len(states) > 0 && states[len(states)-1] == a.State {
				t.Fatalf("two %q error-rate alerts in a row", a.State)
			}
			states = append(states, a.State)
		}
		if len(states) < 2 || states[0] != "firing" || states[1] != "resolved" {
			t.Errorf("error-rate alerts %v, want firing then resolved", states)
		}
	})

	t.Run("users and latency", func(t *testing.T) {
		for _, m := range msgs {
			switch m.Topic {
			case "shop.users.active":
				var n int
				if err := json.Unmarshal(m.Data, &n); err != nil || n <= 0 {
					t.Fatalf("users.active %s, want a positive integer (%v)", m.Data, err)
				}
			case "shop.latency":
				var l latencyData
				if err := json.Unmarshal(m.Data, &l); err != nil || l.P50 <= 0 || l.P99 < l.P50 {
					t.Fatalf("latency %s (%v)", m.Data, err)
				}
			case "bot.latency":
				var ms float64
				if err := json.Unmarshal(m.Data, &ms); err != nil || ms <= 0 {
					t.Fatalf("bot.latency %s (%v)", m.Data, err)
				}
			case "bot.events":
				var e botEventData
				if err := json.Unmarshal(m.Data, &e); err != nil || e.User == "" || e.Text == "" || e.Intent == "" {
					t.Fatalf("bot event %s (%v)", m.Data, err)
				}
			}
		}
		if n := seen["shop.users.active"]; n < 290 || n > 310 {
			t.Errorf("%d users.active points in 300s, want one per second", n)
		}
	})
}

func TestDemoSameSeedSameMessages(t *testing.T) {
	run := func() []livedash.Message {
		return runDemoSimulated(t, &Demo{Rand: rand.New(rand.NewPCG(1, 2)), FlashSaleEvery: time.Minute}, time.Minute)
	}
	a, b := run(), run()
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Fatalf("two runs with the same seed differ (%d and %d messages)", len(a), len(b))
	}
}

func TestDemoSettings(t *testing.T) {
	t.Run("no flash sales", func(t *testing.T) {
		msgs := runDemoSimulated(t, &Demo{Rand: rand.New(rand.NewPCG(3, 4)), FlashSaleEvery: -1}, 4*time.Minute)
		for _, m := range msgs {
			if m.Topic == "alerts.error-rate" {
				t.Fatalf("error-rate alert without flash sales: %s", m.Data)
			}
		}
	})
	t.Run("threshold", func(t *testing.T) {
		msgs := runDemoSimulated(t, &Demo{Rand: rand.New(rand.NewPCG(3, 4)), LowStockThreshold: 100}, 2*time.Minute)
		fired := false
		for _, m := range msgs {
			if m.Topic == "alerts.low-stock" {
				var a lowStockAlertData
				if err := json.Unmarshal(m.Data, &a); err != nil || a.Threshold != 100 {
					t.Fatalf("alert %s, want threshold 100 (%v)", m.Data, err)
				}
				fired = true
			}
		}
		if !fired {
			t.Error("no low-stock alert in two minutes")
		}
	})
}

func TestDemoRunWithWallClockStopsOnCancel(t *testing.T) {
	pub := &recordingPublisher{published: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- (&Demo{Publisher: pub, Step: 5 * time.Millisecond}).Run(ctx) }()
	for range 3 {
		select {
		case <-pub.published:
		case <-time.After(10 * time.Second):
			t.Fatal("no batch published within 10s")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestDemoNeedsPublisher(t *testing.T) {
	if err := (&Demo{}).Run(context.Background()); err == nil {
		t.Fatal("Run without a publisher succeeded")
	}
}
