// Package livedash holds the domain of the livedash real-time dashboard
// server: messages and their ids, topics and patterns, and errors with codes.
//
// Implementations live in packages named after what they do or wrap:
// sqlite (the embedded store), hub (in-process fan-out), pubsub (ordering
// publishes and joining history with live delivery), auth (tokens and
// grants), httpapi (the HTTP surface) and cmd/livedash (wiring and CLI).
// Those packages depend on this one and not on each other, except where
// cmd/livedash wires them together.
package livedash
