// One client per server and token for the whole page: every element on it
// subscribes through the same connection, whose stream carries the union
// of their patterns (the client resubscribes as elements come and go).

import { type Client, connect } from 'livedash';

interface Entry {
  client: Client;
  users: number;
}

const pool = new Map<string, Entry>();

export function acquire(server: string, token: string | undefined): Client {
  const key = `${server} ${token ?? ''}`;
  let e = pool.get(key);
  if (!e) {
    e = { client: connect({ url: server, token }), users: 0 };
    pool.set(key, e);
  }
  e.users++;
  return e.client;
}

/** Drops one user; the last one closes the connection, unless an element is only being moved in the page. */
export function release(server: string, token: string | undefined): void {
  const key = `${server} ${token ?? ''}`;
  const e = pool.get(key);
  if (!e) return;
  e.users--;
  setTimeout(() => {
    if (e.users === 0 && pool.get(key) === e) {
      pool.delete(key);
      e.client.close();
    }
  }, 0);
}
