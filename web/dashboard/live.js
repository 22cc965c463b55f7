// live.js - the WebSocket to /ws: every event once, in order, across reconnects.
// It resumes with ?after=<last event id>; the server replays what was missed, or says
// "resync" when it cannot (then the page reloads its data over REST). A heartbeat arrives
// every few seconds; silence for 60 s means the connection is dead and it reconnects.

const listeners = new Set();
const statusListeners = new Set();
let ws = null, lastId = 0, retry = 0, watchdog = null, stopped = true, timer = null;

export function onEvent(fn) { listeners.add(fn); return () => listeners.delete(fn); }
export function onStatus(fn) { statusListeners.add(fn); return () => statusListeners.delete(fn); }
const setStatus = (s) => statusListeners.forEach((fn) => fn(s));

function emit(msg) { listeners.forEach((fn) => { try { fn(msg); } catch (e) { console.error(e); } }); }

function arm() {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => { if (ws) ws.close(); }, 60000);
}

function connect() {
  if (stopped) return;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${location.host}/ws${lastId ? `?after=${lastId}` : ''}`;
  setStatus('connecting');
  ws = new WebSocket(url);
  ws.onopen = () => { retry = 0; arm(); };
  ws.onmessage = (e) => {
    arm();
    let m;
    try { m = JSON.parse(e.data); } catch (err) { return; }
    if (m.type === 'event') {
      if (m.id <= lastId) return; // already applied
      lastId = m.id;
      emit(m);
    } else if (m.type === 'ready' || m.type === 'resync') {
      if (m.type === 'resync') emit({ type: 'resync' });
      lastId = Math.max(lastId, m.event_id || 0);
      setStatus('live');
    }
  };
  ws.onclose = () => {
    clearTimeout(watchdog);
    ws = null;
    if (stopped) return;
    setStatus('offline');
    const delay = Math.min(15000, 500 * 2 ** retry++) * (0.75 + Math.random() / 2);
    timer = setTimeout(connect, delay);
  };
}

export function start(fromId) {
  stopped = false;
  lastId = Math.max(lastId, fromId || 0);
  if (!ws) connect();
}

export function stop() {
  stopped = true;
  clearTimeout(timer);
  clearTimeout(watchdog);
  if (ws) ws.close();
  ws = null;
  lastId = 0;
}
