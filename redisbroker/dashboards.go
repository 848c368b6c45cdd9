package redisbroker

import (
	"context"
	"fmt"
)

// Dashboards, PutDashboard and DeleteDashboard keep the dashboards written
// through the API in one Redis hash, so that in cluster mode every node
// serves the same definitions at once and they outlive any node
// (httpapi.DashboardStore).

// Dashboards returns the stored dashboard definitions (JSON) by name.
func (b *Broker) Dashboards(ctx context.Context) (map[string][]byte, error) {
	all, err := b.rdb.HGetAll(ctx, b.key("dashboards")).Result()
	if err != nil {
		b.onErr("dashboards")
		return nil, fmt.Errorf("list dashboards: %w", err)
	}
	out := make(map[string][]byte, len(all))
	for name, body := range all {
		out[name] = []byte(body)
	}
	return out, nil
}

// PutDashboard stores a dashboard definition (JSON) under name.
func (b *Broker) PutDashboard(ctx context.Context, name string, body []byte) error {
	if err := b.rdb.HSet(ctx, b.key("dashboards"), name, body).Err(); err != nil {
		b.onErr("dashboards")
		return fmt.Errorf("put dashboard %s: %w", name, err)
	}
	return nil
}

// DeleteDashboard removes a stored dashboard and reports whether it existed.
func (b *Broker) DeleteDashboard(ctx context.Context, name string) (bool, error) {
	n, err := b.rdb.HDel(ctx, b.key("dashboards"), name).Result()
	if err != nil {
		b.onErr("dashboards")
		return false, fmt.Errorf("delete dashboard %s: %w", name, err)
	}
	return n > 0, nil
}
