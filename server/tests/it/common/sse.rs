//! A Server-Sent Events client as a browser's `EventSource` reads a stream (the WHATWG
//! HTML "event stream" format): `event:`, `id:` and `data:` lines, a blank line ending an
//! event, `:` comments skipped. Enough for the agents' call stream.

use std::time::Duration;

/// One event of a stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: String,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null)
    }
}

pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
    /// Comments read so far (the heartbeats).
    pub comments: usize,
}

impl EventStream {
    pub fn new(response: reqwest::Response) -> EventStream {
        EventStream {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event within `wait`, or `None` (nothing came, or the stream ended).
    pub async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(event) = self.take_event() {
                return Some(event);
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next `call` event within `wait`, skipping others.
    pub async fn next_call(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let event = self.next(left).await?;
            if event.event == "call" {
                return Some(event);
            }
        }
    }

    /// Every `call` event that comes until nothing more does for `quiet`.
    pub async fn calls_until_quiet(&mut self, quiet: Duration) -> Vec<SseEvent> {
        let mut calls = Vec::new();
        while let Some(event) = self.next(quiet).await {
            if event.event == "call" {
                calls.push(event);
            }
        }
        calls
    }

    fn take_event(&mut self) -> Option<SseEvent> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let mut event = SseEvent::default();
            let mut data = Vec::new();
            let mut any = false;
            for line in block.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                    continue;
                }
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => event.event = value.to_owned(),
                    "id" => event.id = value.to_owned(),
                    "data" => data.push(value.to_owned()),
                    _ => {}
                }
                any = true;
            }
            if any {
                event.data = data.join("\n");
                if event.event.is_empty() {
                    event.event = "message".into();
                }
                return Some(event);
            }
        }
    }
}
