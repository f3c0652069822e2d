//! A connection closed when nothing moves on it, either way, for a while
//! (`PATCHBAY_IDLE_TIMEOUT_SECS`). One deadline for both directions: a long answer being
//! written (the agents' call stream, whose heartbeat moves every 15 s) keeps its
//! connection open though the client sends nothing, and a client that neither sends nor
//! reads is closed. `tokio-io-timeout` times reads and writes apart, which closes such a
//! stream while it is being read; hence this small wrapper.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

pub struct IdleStream<S> {
    inner: S,
    timeout: Duration,
    last_progress: Instant,
    /// Wakes the connection when the deadline may have passed; moved on lazily.
    timer: Pin<Box<Sleep>>,
}

impl<S> IdleStream<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        let now = Instant::now();
        IdleStream {
            inner,
            timeout,
            last_progress: now,
            timer: Box::pin(tokio::time::sleep_until(now + timeout)),
        }
    }

    fn progressed(&mut self) {
        self.last_progress = Instant::now();
    }

    /// After the inner stream answered Pending: an error once nothing has moved for the
    /// timeout, else Pending with the timer set to wake at the deadline.
    fn still_waiting<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let deadline = self.last_progress + self.timeout;
        if Instant::now() >= deadline {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "nothing moved on the connection for the idle timeout",
            )));
        }
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        // Registers the waker; the deadline is in the future, so this is Pending.
        let _ = self.timer.as_mut().poll(cx);
        Poll::Pending
    }
}

impl<S> IdleStream<S> {
    /// A write's outcome: bytes written are progress; waiting counts toward the deadline.
    fn after_write(
        &mut self,
        polled: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(Ok(written)) => {
                if written > 0 {
                    self.progressed();
                }
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => self.still_waiting(cx),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    this.progressed();
                }
                Poll::Ready(result)
            }
            Poll::Pending => this.still_waiting(cx),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.after_write(polled, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(polled, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.still_waiting(cx),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_quiet_connection_is_closed_and_one_being_written_is_not() {
        let (client, server) = tokio::io::duplex(64);
        let idle = IdleStream::new(server, Duration::from_millis(400));
        // A read waits on the client while answers are written every 200 ms: twice the
        // timeout passes and the connection stays.
        let mut reader = client;
        let read = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let mut got = 0;
            while got < 4 {
                got += reader.read(&mut buf).await.unwrap();
            }
            reader
        });
        let (mut reading, mut writing) = tokio::io::split(idle);
        let waiting = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            reading.read(&mut buf).await
        });
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            writing.write_all(b"x").await.unwrap();
        }
        let _reader = read.await.unwrap();
        // Then nothing moves: the waiting read times out.
        let error = waiting.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        drop(writing);
    }
}
