// Package livedash holds the domain of the livedash real-time dashboard
// server: messages and their ids, topics and patterns, errors with codes,
// and the Publisher through which the server publishes on its own behalf.
//
// Implementations live in packages named after what they do or wrap. Each
// depends on this one and on no other of the module's packages, except
// for these edges (TestPackageBoundaries checks them against go list):
//
//   - cmd/livedash wires every package together (and holds the
//     configuration file's composition: config's part with the engines'
//     and producers' sections beside it);
//   - httpapi, the HTTP surface, uses what it serves: auth (tokens and
//     grants), config (its part of the file), dashboard (the definitions it
//     serves), hub and pubsub (live delivery and joining it with history),
//     push (the delivery engine of SSE and WebSocket streams), ingest (the limits every publish
//     path shares), lineproto and otlp (the ingest formats), notify (the
//     test notification endpoint);
//   - pubsub joins history with hub's live frames;
//   - rollup and alert build on engine (the shared engine skeleton), which
//     feeds engines from hub;
//   - notify reads the alert messages alert publishes (alert's Rule.Notify
//     names its receivers);
//   - producer (host metrics, demo, scrapes) uses counter (rates of
//     counters) and promtext (the Prometheus text format); otlp uses
//     counter too;
//   - push and bench share internal/epoll;
//   - client and bench share sse (the Server-Sent Events parser).
//
// Host-only modules (gopsutil) are producer's alone: nothing that httpapi
// or an engine imports pulls them in.
package livedash
