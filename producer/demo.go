package producer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/livedash/livedash"
)

// Demo defaults, used for zero fields of Demo.
const (
	DefaultDemoStep          = 250 * time.Millisecond
	DefaultDemoDayLength     = 10 * time.Minute
	DefaultFlashSaleEvery    = 4 * time.Minute
	DefaultFlashSaleLength   = 40 * time.Second
	DefaultLowStockThreshold = 25
)

// Demo simulates a small web shop and its support chat-bot so that a fresh
// server has something alive to show. Traffic follows a "day" compressed to
// DayLength (a sine with noise), and a flash sale every FlashSaleEvery
// (the first one half a period after the start) multiplies the order rate
// by 5 to 10 for FlashSaleLength, drains the inventory and pushes error
// rates and latencies up. It publishes, every step:
//
//	shop.orders          event  {"order_id":"ord-000042","customer":"Maya K.","items":[{"sku":"mug","qty":2,"price":12.5}],"total":25,"currency":"USD"}
//	shop.revenue         point  the total of each order, one message per order
//	bot.events           event  {"user":"Maya K.","text":"Where is my order ord-000042?","intent":"order_status"}
//
// and once per simulated second:
//
//	shop.users.active    point  integer, slowly varying
//	shop.inventory       stats  {"<sku>":level,…} for 8 SKUs
//	shop.latency         point  {"p50":ms,"p99":ms}
//	shop.errors          point  error rate in %, mostly under 2, over 5 during sales
//	bot.latency          point  ms
//
// and alerts when states change:
//
//	alerts.low-stock     alert  {"severity":"warning","message":…,"state":"firing","sku":…,"level":n,"threshold":n}
//	                            severity "critical" when the SKU is sold out; on restock
//	                            {"severity":"info",…,"state":"resolved"}
//	alerts.error-rate    alert  {"severity":"critical","message":…,"state":"firing","value":pct,"threshold":5}
//	                            when the error rate passes 5%; "resolved" (info) once it is back under 3%
//
// A SKU under the threshold is restocked to capacity 30 to 75 simulated
// seconds later. One limited SKU starts close to the threshold, so a
// low-stock alert fires within about a minute of the start.
//
// Set the fields before Run; zero values take the defaults.
type Demo struct {
	Publisher livedash.Publisher

	// Rand drives every random choice; a fixed seed gives the same
	// messages for the same ticks. If nil, a randomly seeded one is used.
	Rand *rand.Rand
	// Now gives the start time of the simulation; time.Now if nil.
	Now func() time.Time
	// Ticks, if not nil, paces the simulation instead of a wall-clock
	// ticker of Step: each value received is the time of one step (so a
	// test can feed simulated time), and Run returns when it is closed.
	Ticks <-chan time.Time
	// Step is the interval of the wall-clock ticker; DefaultDemoStep if zero.
	Step time.Duration
	// DayLength is the period of the traffic sine; DefaultDemoDayLength if zero.
	DayLength time.Duration
	// FlashSaleEvery is the time between flash sales; DefaultFlashSaleEvery
	// if zero; negative disables them.
	FlashSaleEvery time.Duration
	// FlashSaleLength is how long a sale lasts; DefaultFlashSaleLength if zero.
	FlashSaleLength time.Duration
	// LowStockThreshold is the inventory level under which a low-stock
	// alert fires; DefaultLowStockThreshold if zero.
	LowStockThreshold int
	// Logger gets publish failures; nil discards.
	Logger *slog.Logger
}

// Run simulates and publishes until ctx is done (or Ticks is closed), then
// returns nil. It returns an error at once without a Publisher. A failed
// publish is logged and its batch dropped.
func (d *Demo) Run(ctx context.Context) error {
	if d.Publisher == nil {
		return errors.New("demo: no publisher")
	}
	cfg := demoConfig{
		dayLength:       orDefault(d.DayLength, DefaultDemoDayLength),
		saleEvery:       orDefault(d.FlashSaleEvery, DefaultFlashSaleEvery),
		saleLength:      orDefault(d.FlashSaleLength, DefaultFlashSaleLength),
		lowStock:        d.LowStockThreshold,
		step:            orDefault(d.Step, DefaultDemoStep),
		metricsInterval: time.Second,
	}
	if cfg.lowStock <= 0 {
		cfg.lowStock = DefaultLowStockThreshold
	}
	rng := d.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	log := d.Logger
	if log == nil {
		log = discardLogger()
	}

	sim := newShopSim(cfg, now(), rng)
	ticks := d.Ticks
	if ticks == nil {
		ticker := time.NewTicker(cfg.step)
		defer ticker.Stop()
		ticks = ticker.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case at, ok := <-ticks:
			if !ok {
				return nil
			}
			msgs, err := sim.step(at)
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			publishAll(ctx, d.Publisher, log, "demo", msgs)
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

type demoConfig struct {
	dayLength       time.Duration
	saleEvery       time.Duration // < 0: no sales
	saleLength      time.Duration
	lowStock        int
	step            time.Duration
	metricsInterval time.Duration
}

// Topics of the demo.
const (
	topicOrders         = "shop.orders"
	topicRevenue        = "shop.revenue"
	topicUsersActive    = "shop.users.active"
	topicInventory      = "shop.inventory"
	topicLatency        = "shop.latency"
	topicErrors         = "shop.errors"
	topicBotLatency     = "bot.latency"
	topicBotEvents      = "bot.events"
	topicAlertLowStock  = "alerts.low-stock"
	topicAlertErrorRate = "alerts.error-rate"
)

// Error-rate alert thresholds, in percent: fire above the first, resolve
// below the second.
const (
	errorRateFiring   = 5.0
	errorRateResolved = 3.0
)

// baseOrdersPerSecond is the mean order rate outside sales.
const baseOrdersPerSecond = 3.0

// skuState is one product of the shop and its stock.
type skuState struct {
	sku        string
	priceCents int64
	weight     float64 // relative popularity
	capacity   int     // level after a restock
	level      int
	restockAt  time.Time // zero: no restock scheduled
	alert      string    // "", "warning" or "critical": the low-stock alert firing
}

// Data shapes of the demo's messages.
type (
	orderItem struct {
		SKU   string  `json:"sku"`
		Qty   int     `json:"qty"`
		Price float64 `json:"price"`
	}
	orderData struct {
		OrderID  string      `json:"order_id"`
		Customer string      `json:"customer"`
		Items    []orderItem `json:"items"`
		Total    float64     `json:"total"`
		Currency string      `json:"currency"`
	}
	latencyData struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	}
	botEventData struct {
		User   string `json:"user"`
		Text   string `json:"text"`
		Intent string `json:"intent"`
	}
	lowStockAlertData struct {
		Severity  string `json:"severity"`
		Message   string `json:"message"`
		State     string `json:"state"`
		SKU       string `json:"sku"`
		Level     int    `json:"level"`
		Threshold int    `json:"threshold"`
	}
	errorRateAlertData struct {
		Severity  string  `json:"severity"`
		Message   string  `json:"message"`
		State     string  `json:"state"`
		Value     float64 `json:"value"`
		Threshold float64 `json:"threshold"`
	}
)

// shopSim is the state of the simulation, advanced by step. It is used by
// one goroutine.
type shopSim struct {
	cfg   demoConfig
	rng   *rand.Rand
	start time.Time

	lastStep    time.Time
	lastMetrics time.Time // zero: never published
	orderSeq    int
	lastOrderID string
	skus        []*skuState

	sale           int     // index of the current or last sale, -1 before the first
	saleMultiplier float64 // order-rate factor of the current sale; 1 outside sales

	usersActive   float64
	p50           float64
	errorRate     float64
	errorFiring   bool
	botLatencyAvg float64
}

func newShopSim(cfg demoConfig, start time.Time, rng *rand.Rand) *shopSim {
	type product struct {
		sku      string
		cents    int64
		weight   float64
		capacity int
	}
	products := []product{
		{"tshirt-basic", 1999, 5, 1200},
		{"hoodie", 4900, 3, 750},
		{"mug", 1250, 4, 900},
		{"sticker-pack", 499, 6, 1800},
		{"cap", 2400, 2, 600},
		{"notebook", 990, 3, 900},
		{"water-bottle", 1700, 2, 600},
		{"limited-sneaker", 12900, 1, 60},
	}
	s := &shopSim{
		cfg:            cfg,
		rng:            rng,
		start:          start,
		lastStep:       start,
		sale:           -1,
		saleMultiplier: 1,
		usersActive:    320,
		p50:            45,
		errorRate:      0.7,
		botLatencyAvg:  380,
	}
	for _, p := range products {
		capacity := max(p.capacity, cfg.lowStock*2)
		s.skus = append(s.skus, &skuState{
			sku: p.sku, priceCents: p.cents, weight: p.weight, capacity: capacity,
			level: int(float64(capacity) * (0.6 + 0.35*rng.Float64())),
		})
	}
	// The limited sneaker starts close to the threshold: the first
	// low-stock alert comes within a minute or two of the start.
	sneaker := s.skus[len(s.skus)-1]
	sneaker.level = min(sneaker.capacity, cfg.lowStock+10)
	return s
}

// step advances the simulation to now and returns the messages of the step.
func (s *shopSim) step(now time.Time) ([]livedash.Message, error) {
	dt := now.Sub(s.lastStep).Seconds()
	if dt <= 0 || dt > 5 {
		// The first step, a clock going backwards or a long stall: simulate
		// one normal step rather than a burst.
		dt = s.cfg.step.Seconds()
	}
	s.lastStep = now
	elapsed := now.Sub(s.start)
	ts := now.UnixMilli()
	b := &batch{ts: ts}

	s.updateSale(elapsed)
	load := s.trafficLevel(elapsed)
	rate := baseOrdersPerSecond * load * s.saleMultiplier
	for range s.poisson(rate * dt) {
		s.placeOrder(b)
	}
	s.restock(b, now)
	botRate := 0.4 * load
	if s.inSale() {
		botRate *= 2.5
	}
	for range s.poisson(botRate * dt) {
		s.botEvent(b)
	}
	if s.lastMetrics.IsZero() || now.Sub(s.lastMetrics) >= s.cfg.metricsInterval {
		s.lastMetrics = now
		s.metrics(b, load)
	}
	return b.msgs, b.err
}

// batch collects the messages of one step; the first encoding error sticks.
type batch struct {
	ts   int64
	msgs []livedash.Message
	err  error
}

func (b *batch) add(topic, typ string, data any) {
	m, err := newMessage(topic, typ, b.ts, data)
	if err != nil {
		if b.err == nil {
			b.err = err
		}
		return
	}
	b.msgs = append(b.msgs, m)
}

// updateSale starts and ends flash sales on their schedule: the first at
// half a period, then one every period.
func (s *shopSim) updateSale(elapsed time.Duration) {
	if s.cfg.saleEvery <= 0 {
		s.saleMultiplier = 1
		return
	}
	since := elapsed - s.cfg.saleEvery/2
	if since < 0 {
		s.saleMultiplier = 1
		return
	}
	index := int(since / s.cfg.saleEvery)
	inSale := since%s.cfg.saleEvery < s.cfg.saleLength
	switch {
	case inSale && index != s.sale:
		s.sale = index
		s.saleMultiplier = 5 + 5*s.rng.Float64()
	case !inSale:
		s.saleMultiplier = 1
	}
}

func (s *shopSim) inSale() bool { return s.saleMultiplier > 1 }

// trafficLevel is the traffic relative to the mean: a compressed day
// (a sine of period DayLength, between about 0.5 and 1.5) times noise.
func (s *shopSim) trafficLevel(elapsed time.Duration) float64 {
	phase := 2 * math.Pi * elapsed.Seconds() / s.cfg.dayLength.Seconds()
	level := 1 + 0.45*math.Sin(phase)
	level *= 1 + 0.12*s.rng.NormFloat64()
	return math.Max(0.2, level)
}

// poisson draws a count of events with mean lambda.
func (s *shopSim) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 60 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*s.rng.NormFloat64())))
	}
	limit, n, p := math.Exp(-lambda), 0, s.rng.Float64()
	for p > limit {
		n++
		p *= s.rng.Float64()
	}
	return n
}

// placeOrder builds one order from the stock there is, takes its items out
// of the inventory and adds the order and its revenue to b. Nothing is
// added when every chosen SKU is sold out.
func (s *shopSim) placeOrder(b *batch) {
	lines := 1
	switch r := s.rng.Float64(); {
	case r > 0.9:
		lines = 3
	case r > 0.6:
		lines = 2
	}
	var items []orderItem
	var totalCents int64
	chosen := map[*skuState]bool{}
	for range lines {
		sku := s.pickSKU(chosen)
		if sku == nil {
			break
		}
		chosen[sku] = true
		qty := 1
		switch r := s.rng.Float64(); {
		case r > 0.92:
			qty = 3
		case r > 0.72:
			qty = 2
		}
		qty = min(qty, sku.level)
		if qty == 0 {
			continue // sold out: the customer drops this line
		}
		sku.level -= qty
		totalCents += int64(qty) * sku.priceCents
		items = append(items, orderItem{SKU: sku.sku, Qty: qty, Price: centsToUSD(sku.priceCents)})
		s.checkLowStock(b, sku)
	}
	if len(items) == 0 {
		return
	}
	s.orderSeq++
	s.lastOrderID = fmt.Sprintf("ord-%06d", s.orderSeq)
	total := centsToUSD(totalCents)
	b.add(topicOrders, livedash.TypeEvent, orderData{
		OrderID: s.lastOrderID, Customer: s.person(), Items: items, Total: total, Currency: "USD",
	})
	b.add(topicRevenue, livedash.TypePoint, total)
}

func centsToUSD(cents int64) float64 { return float64(cents) / 100 }

// pickSKU picks a product by popularity among those not yet in the order.
func (s *shopSim) pickSKU(exclude map[*skuState]bool) *skuState {
	var sum float64
	for _, k := range s.skus {
		if !exclude[k] {
			sum += k.weight
		}
	}
	if sum == 0 {
		return nil
	}
	r := s.rng.Float64() * sum
	for _, k := range s.skus {
		if exclude[k] {
			continue
		}
		if r < k.weight {
			return k
		}
		r -= k.weight
	}
	for i := len(s.skus) - 1; i >= 0; i-- { // rounding left r just above the last weight
		if !exclude[s.skus[i]] {
			return s.skus[i]
		}
	}
	return nil
}

// checkLowStock fires a low-stock alert when sku has just gone under the
// threshold (warning) or sold out (critical), and schedules its restock.
func (s *shopSim) checkLowStock(b *batch, sku *skuState) {
	if sku.level >= s.cfg.lowStock {
		return
	}
	if sku.restockAt.IsZero() {
		delay := 30*time.Second + time.Duration(s.rng.Int64N(int64(45*time.Second)))
		sku.restockAt = s.lastStep.Add(delay)
	}
	severity, message := "warning", fmt.Sprintf("Low stock: %s has %d left", sku.sku, sku.level)
	if sku.level == 0 {
		severity, message = "critical", fmt.Sprintf("Sold out: %s", sku.sku)
	}
	if sku.alert == severity {
		return
	}
	sku.alert = severity
	b.add(topicAlertLowStock, livedash.TypeAlert, lowStockAlertData{
		Severity: severity, Message: message, State: "firing",
		SKU: sku.sku, Level: sku.level, Threshold: s.cfg.lowStock,
	})
}

// restock refills the SKUs whose delivery is due and resolves their alerts.
func (s *shopSim) restock(b *batch, now time.Time) {
	for _, sku := range s.skus {
		if sku.restockAt.IsZero() || now.Before(sku.restockAt) {
			continue
		}
		sku.restockAt = time.Time{}
		sku.level = sku.capacity
		if sku.alert != "" {
			sku.alert = ""
			b.add(topicAlertLowStock, livedash.TypeAlert, lowStockAlertData{
				Severity: "info", Message: fmt.Sprintf("Restocked: %s is back to %d", sku.sku, sku.level),
				State: "resolved", SKU: sku.sku, Level: sku.level, Threshold: s.cfg.lowStock,
			})
		}
	}
}

// metrics adds the once-per-second gauges and the error-rate alert.
func (s *shopSim) metrics(b *batch, load float64) {
	// Users drift towards a target that follows the day, with a crowd
	// arriving for a sale.
	target := 320 * load
	if s.inSale() {
		target *= 1 + s.saleMultiplier/4
	}
	s.usersActive += (target-s.usersActive)*0.08 + 4*s.rng.NormFloat64()
	s.usersActive = math.Max(1, s.usersActive)
	b.add(topicUsersActive, livedash.TypePoint, int(math.Round(s.usersActive)))

	inventory := make(map[string]int, len(s.skus))
	for _, sku := range s.skus {
		inventory[sku.sku] = sku.level
	}
	b.add(topicInventory, livedash.TypeStats, inventory)

	pressure := load * s.saleMultiplier // 1 on an average moment, 5-15 in a sale
	p50Target := 38 + 7*pressure + 3*s.rng.NormFloat64()
	s.p50 += (p50Target - s.p50) * 0.3
	s.p50 = math.Max(5, s.p50)
	p99 := s.p50 * (2.4 + 0.5*math.Abs(s.rng.NormFloat64()) + 0.15*(pressure-1))
	b.add(topicLatency, livedash.TypePoint, latencyData{P50: round(s.p50, 1), P99: round(p99, 1)})

	errTarget := 0.5 + 0.35*math.Abs(s.rng.NormFloat64())
	if s.inSale() {
		errTarget = 1 + 0.8*s.saleMultiplier + s.rng.NormFloat64()
	}
	s.errorRate += (errTarget - s.errorRate) * 0.25
	s.errorRate = math.Max(0, s.errorRate+0.05*s.rng.NormFloat64())
	errPct := round(s.errorRate, 2)
	b.add(topicErrors, livedash.TypePoint, errPct)
	switch {
	case !s.errorFiring && errPct > errorRateFiring:
		s.errorFiring = true
		b.add(topicAlertErrorRate, livedash.TypeAlert, errorRateAlertData{
			Severity: "critical", State: "firing", Value: errPct, Threshold: errorRateFiring,
			Message: fmt.Sprintf("Checkout error rate is %.1f%% (over %g%%)", errPct, errorRateFiring),
		})
	case s.errorFiring && errPct < errorRateResolved:
		s.errorFiring = false
		b.add(topicAlertErrorRate, livedash.TypeAlert, errorRateAlertData{
			Severity: "info", State: "resolved", Value: errPct, Threshold: errorRateFiring,
			Message: fmt.Sprintf("Checkout error rate is back to %.1f%%", errPct),
		})
	}

	botTarget := 320 * math.Exp(0.3*s.rng.NormFloat64())
	if s.inSale() {
		botTarget += 40 * s.saleMultiplier
	}
	s.botLatencyAvg += (botTarget - s.botLatencyAvg) * 0.5
	b.add(topicBotLatency, livedash.TypePoint, math.Round(s.botLatencyAvg))
}

// botEvent adds one chat-bot conversation turn.
func (s *shopSim) botEvent(b *batch) {
	sku := s.skus[s.rng.IntN(len(s.skus))].sku
	order := s.lastOrderID
	if order == "" {
		order = "ord-000001"
	}
	type line struct{ intent, text string }
	lines := []line{
		{"order_status", "Where is my order " + order + "?"},
		{"order_status", "Has " + order + " shipped yet?"},
		{"returns", "How do I return a " + sku + "?"},
		{"sizing", "Does the " + sku + " run small?"},
		{"shipping", "How long does shipping to " + pick(s.rng, []string{"Berlin", "Austin", "Lagos", "Osaka", "Lyon", "Toronto", "Pune", "Leeds"}) + " take?"},
		{"greeting", pick(s.rng, []string{"hi", "hello there", "hey, quick question"})},
		{"human", "Can I talk to a human, please?"},
	}
	if s.inSale() {
		lines = append(lines,
			line{"flash_sale", "Is the flash sale still on?"},
			line{"flash_sale", "Why can't I add " + sku + " to my cart?"},
			line{"flash_sale", "Does the discount apply to " + sku + "?"},
		)
	}
	l := lines[s.rng.IntN(len(lines))]
	b.add(topicBotEvents, livedash.TypeEvent, botEventData{User: s.person(), Text: l.text, Intent: l.intent})
}

// person returns a customer name, first name and initial.
func (s *shopSim) person() string {
	firstNames := [...]string{
		"Maya", "Liam", "Noor", "Kenji", "Ada", "Mateo", "Zoe", "Omar", "Freya", "Ravi",
		"Lena", "Tom", "Aiko", "Sam", "Ines", "Jonas", "Priya", "Leo", "Chloe", "Yusuf",
	}
	return firstNames[s.rng.IntN(len(firstNames))] + " " + string(rune('A'+s.rng.IntN(26))) + "."
}

func pick(rng *rand.Rand, from []string) string { return from[rng.IntN(len(from))] }
