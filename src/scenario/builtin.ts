import type { ScenarioSpec } from '../contract.js';

// Scenarios used without a file: a plain connection to the URL given, or the full session the
// reference target serves (token → chat → WebSocket).

/**
 * No HTTP steps: connect straight to `url` (ws(s):// → WebSocket, http(s):// → SSE). The URL is a
 * template, so `ws://host/ws?id={{uuid}}` gives every session its own id.
 */
export function directScenario(url: string): ScenarioSpec {
  const transport = /^https?:\/\//i.test(url) ? 'sse' : 'ws';
  return { name: 'direct', http: [], connect: { transport, url } };
}

/**
 * The reference target's session: `POST /auth/token` → `token`, `POST /chats` with the Bearer
 * token → `chatId`, then the WebSocket `/ws?token=…&chat=…`.
 */
export function referenceScenario(httpBase: string, wsBase: string): ScenarioSpec {
  const http = trimSlash(httpBase);
  const ws = trimSlash(wsBase);
  return {
    name: 'reference',
    http: [
      {
        name: 'token',
        method: 'POST',
        url: `${http}/auth/token`,
        body: { userId: 'user-{{index}}' },
        capture: { token: 'token' },
      },
      {
        name: 'chat',
        method: 'POST',
        url: `${http}/chats`,
        headers: { Authorization: 'Bearer {{token}}' },
        body: { name: 'chat-{{index}}' },
        capture: { chatId: 'chatId' },
      },
    ],
    connect: { transport: 'ws', url: `${ws}/ws?token={{token | urlencode}}&chat={{chatId | urlencode}}` },
  };
}

function trimSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}
