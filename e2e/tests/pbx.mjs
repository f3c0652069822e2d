// A stand-in Yeastar P-Series PBX for the browser tests, written from the vendor's public
// developer guide: POST /openapi/v1.0/get_token (Client ID and Secret as username and
// password, a User-Agent required), POST refresh_token, GET del_token, GET extension/list
// (page, page_size → total_number, data), and the event WebSocket at
// /openapi/v1.0/subscribe?access_token=…: {"topic_list":[…]} answered {"errcode":0},
// "heartbeat" answered "heartbeat response".
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';

export const CLIENT_ID = 'UEnH9Dmv6uBJEXsYcag1trNfQThYXXXX';
export const CLIENT_SECRET = 'ZLcXl63S9EtMnYoHUnjbVo6sA8CbXXXX';
export const WEBHOOK_SECRET = 'kX7pQ2mN9vR4tY6wZ8aB1cD3eF5gH0jL';

export async function startPbx({ extensions }) {
  const tokens = new Set();
  const sockets = new Set();
  const seen = { tokens: 0, subscriptions: [], heartbeats: 0 };
  const json = (res, body) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = (req) => new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk) => { text += chunk; });
    req.on('end', () => resolve(text ? JSON.parse(text) : {}));
  });
  const issue = () => {
    const access = randomBytes(16).toString('hex');
    tokens.add(access);
    seen.tokens += 1;
    return {
      errcode: 0, errmsg: 'SUCCESS', access_token_expire_time: 1800, access_token: access,
      refresh_token_expire_time: 86400, refresh_token: randomBytes(16).toString('hex'),
    };
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://pbx');
    if (!req.headers['user-agent']) return json(res, { errcode: 10001, errmsg: 'FAILURE' });
    if (req.method === 'POST' && url.pathname === '/openapi/v1.0/get_token') {
      const body = await readBody(req);
      if (body.username !== CLIENT_ID || body.password !== CLIENT_SECRET) {
        return json(res, { errcode: 10004, errmsg: 'INVALID USERNAME OR PASSWORD' });
      }
      return json(res, issue());
    }
    if (req.method === 'POST' && url.pathname === '/openapi/v1.0/refresh_token') {
      await readBody(req);
      return json(res, issue());
    }
    const token = url.searchParams.get('access_token');
    if (!tokens.has(token)) return json(res, { errcode: 10004, errmsg: 'ACCESS TOKEN INVALID' });
    if (url.pathname === '/openapi/v1.0/del_token') {
      tokens.delete(token);
      return json(res, { errcode: 0, errmsg: 'SUCCESS' });
    }
    if (url.pathname === '/openapi/v1.0/extension/list') {
      const page = Number(url.searchParams.get('page') || 1);
      const size = Number(url.searchParams.get('page_size') || 10);
      const data = extensions.slice((page - 1) * size, page * size).map(([number, name, email], i) => ({
        id: i + 1, number, caller_id_name: name, email_addr: email, mobile_number: '',
      }));
      return json(res, { errcode: 0, errmsg: 'SUCCESS', total_number: extensions.length, data });
    }
    res.writeHead(404);
    res.end();
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://pbx');
    if (url.pathname !== '/openapi/v1.0/subscribe' || !tokens.has(url.searchParams.get('access_token'))) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      let topics = [];
      sockets.add({ ws, topics: () => topics });
      ws.on('message', (data) => {
        const text = data.toString();
        if (text === 'heartbeat') {
          seen.heartbeats += 1;
          ws.send('heartbeat response');
          return;
        }
        const request = JSON.parse(text);
        if (Array.isArray(request.topic_list)) {
          topics = request.topic_list;
          seen.subscriptions.push(topics);
          ws.send(JSON.stringify({ errcode: 0, errmsg: 'SUCCESS' }));
        }
      });
      ws.on('close', () => {
        for (const entry of sockets) if (entry.ws === ws) sockets.delete(entry);
      });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    seen,
    // Sends an event to every connection subscribed to its type.
    push(event) {
      const type = JSON.parse(event).type;
      for (const { ws, topics } of sockets) if (topics().includes(type)) ws.send(event);
    },
    close() {
      for (const { ws } of sockets) ws.terminate();
      wss.close();
      server.close();
    },
  };
}
