export { Client, LivedashError, connect } from './client';
export type { ConnectOptions, PublishMessage, State, StateChange, SubscribeOptions, Subscription, Transport } from './client';
export type { Envelope, ResetInfo } from './types';
export type { BackoffOptions } from './backoff';
export type { WebSocketConstructor, WebSocketLike } from './ws';
export { matchTopic } from './pattern';
export { compareIds } from './ids';
