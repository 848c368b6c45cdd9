export { Client, LivedashError, connect } from './client.js';
export type { ConnectOptions, PublishMessage, State, StateChange, SubscribeOptions, Subscription, Transport } from './client.js';
export type { Envelope, ResetInfo } from './types.js';
export type { BackoffOptions } from './backoff.js';
export type { WebSocketConstructor, WebSocketLike } from './ws.js';
export { matchTopic } from './pattern.js';
export { compareIds } from './ids.js';
