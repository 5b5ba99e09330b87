//! Lazy paging over list operations that take an offset (`skip`, `offset`) and a page size
//! (`limit`).

use crate::error::{Error, Result};
use futures_core::Stream;
use futures_util::stream;
use std::future::Future;

/// The page size list streams use when the builder sets no limit (the largest Trophy allows).
pub(crate) const MAX_PAGE: u32 = 100;

/// Where the pager stands between two items.
struct Pager<T, F> {
    fetch: F,
    page_size: u32,
    /// The offset of the next page to fetch; `None` once the last page was fetched or a
    /// fetch failed.
    next: Option<u32>,
    /// The items of the current page not yielded yet.
    buffer: std::vec::IntoIter<T>,
}

/// Streams the items of a paged list, fetching pages only as they are needed.
///
/// `fetch(offset, limit)` fetches one page: the items from `offset` on, at most `limit` of
/// them. The first page starts at `start`; each next page starts after the items received so
/// far. Paging stops after the first page shorter than `page_size` (an empty page included).
/// A failed fetch is yielded as the stream's last item. A `page_size` of 0 yields an
/// [`Error::InvalidInput`] on `limit` and nothing else, as it could never make progress.
///
/// The stream is `Unpin`: call `.next().await` on it without pinning.
pub(crate) fn paginate<T, F, Fut>(page_size: u32, start: u32, fetch: F) -> impl Stream<Item = Result<T>> + Send + Unpin
where
    T: Send,
    F: FnMut(u32, u32) -> Fut + Send,
    Fut: Future<Output = Result<Vec<T>>> + Send,
{
    let pager = Pager {
        fetch,
        page_size,
        next: Some(start),
        buffer: Vec::new().into_iter(),
    };
    Box::pin(stream::unfold(pager, |mut pager| async move {
        loop {
            if let Some(item) = pager.buffer.next() {
                return Some((Ok(item), pager));
            }
            let offset = pager.next.take()?;
            if pager.page_size == 0 {
                return Some((
                    Err(Error::invalid("limit", "must be at least 1 to page through a list")),
                    pager,
                ));
            }
            match (pager.fetch)(offset, pager.page_size).await {
                Ok(page) => {
                    let received = u32::try_from(page.len()).unwrap_or(u32::MAX);
                    if received >= pager.page_size {
                        // A full page: there may be more. Stop rather than wrap past u32::MAX.
                        pager.next = offset.checked_add(received);
                    }
                    pager.buffer = page.into_iter();
                }
                Err(e) => return Some((Err(e), pager)),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::sync::{Arc, Mutex};

    /// A fetcher over `0..total` that records the `(offset, limit)` of every call.
    fn numbers(
        total: u32,
        calls: Arc<Mutex<Vec<(u32, u32)>>>,
    ) -> impl FnMut(u32, u32) -> std::future::Ready<Result<Vec<u32>>> {
        move |offset, limit| {
            calls.lock().unwrap().push((offset, limit));
            let end = total.min(offset.saturating_add(limit));
            std::future::ready(Ok((offset..end.max(offset)).collect()))
        }
    }

    #[tokio::test]
    async fn yields_every_item_across_pages_and_stops_at_a_short_page() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let items: Vec<u32> = paginate(2, 0, numbers(5, calls.clone()))
            .map(|r| r.unwrap())
            .collect()
            .await;
        assert_eq!(items, vec![0, 1, 2, 3, 4]);
        assert_eq!(*calls.lock().unwrap(), vec![(0, 2), (2, 2), (4, 2)]);
    }

    #[tokio::test]
    async fn an_exact_multiple_ends_with_one_empty_page() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let items: Vec<u32> = paginate(3, 0, numbers(6, calls.clone()))
            .map(|r| r.unwrap())
            .collect()
            .await;
        assert_eq!(items, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(*calls.lock().unwrap(), vec![(0, 3), (3, 3), (6, 3)]);
    }

    #[tokio::test]
    async fn starts_at_the_given_offset() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let items: Vec<u32> = paginate(10, 7, numbers(9, calls.clone()))
            .map(|r| r.unwrap())
            .collect()
            .await;
        assert_eq!(items, vec![7, 8]);
        assert_eq!(*calls.lock().unwrap(), vec![(7, 10)]);
    }

    #[tokio::test]
    async fn is_lazy() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let mut s = paginate(2, 0, numbers(100, calls.clone()));
        assert!(calls.lock().unwrap().is_empty(), "nothing fetched before polling");
        assert_eq!(s.next().await.unwrap().unwrap(), 0);
        assert_eq!(s.next().await.unwrap().unwrap(), 1);
        assert_eq!(calls.lock().unwrap().len(), 1);
        assert_eq!(s.next().await.unwrap().unwrap(), 2);
        assert_eq!(calls.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn an_error_is_yielded_last() {
        let mut calls = 0;
        let s = paginate(2, 0, move |offset, _| {
            calls += 1;
            std::future::ready(if calls < 2 {
                Ok(vec![offset, offset + 1])
            } else {
                Err(Error::invalid("x", "boom"))
            })
        });
        let items: Vec<Result<u32>> = s.collect().await;
        assert_eq!(items.len(), 3);
        assert_eq!(*items[0].as_ref().unwrap(), 0);
        assert_eq!(*items[1].as_ref().unwrap(), 1);
        assert!(matches!(&items[2], Err(Error::InvalidInput(e)) if e.field == "x"));
    }

    #[tokio::test]
    async fn a_zero_page_size_is_an_error_not_a_loop() {
        let items: Vec<Result<u32>> = paginate(0, 0, |_, _| async { Ok(vec![]) }).collect().await;
        assert_eq!(items.len(), 1);
        assert!(matches!(&items[0], Err(Error::InvalidInput(e)) if e.field == "limit"));
    }

    #[tokio::test]
    async fn a_page_longer_than_asked_advances_by_what_was_received() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = calls.clone();
        let s = paginate(2, 0, move |offset, _| {
            seen.lock().unwrap().push(offset);
            std::future::ready(Ok(if offset == 0 { vec![0, 1, 2] } else { vec![3] }))
        });
        let items: Vec<u32> = s.map(|r| r.unwrap()).collect().await;
        assert_eq!(items, vec![0, 1, 2, 3]);
        assert_eq!(*calls.lock().unwrap(), vec![0, 3]);
    }

    #[test]
    fn the_stream_is_send_and_static() {
        fn assert_send_static<S: Send + 'static>(_: S) {}
        assert_send_static(paginate(2, 0, |_, _| async { Ok(vec![1u8]) }));
    }
}
