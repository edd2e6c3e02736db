//! Batch consumers (`generate --links`, SPEC §2.2 "Links"): OpenTelemetry
//! messaging instrumentations that process messages in batches start the
//! consumer's span in a trace of its own, with no parent and a link to the
//! message's producer span. The generator writes such consumers by moving
//! a generated Producer → Consumer pair apart after the trace is made: the
//! consumer's span and everything under it get a new trace id, the
//! consumer loses its parent and links to the producer instead. Nothing
//! else changes (same spans, ids, times, errors, and no random draw), so
//! an organisation generated with links has exactly the dependency edges
//! of the one generated without (`tests/test_generated.rs`).

use std::collections::HashMap;

use super::traces::GenSpan;

/// Services whose consumers receive by link: every other service, so an
/// organisation has both kinds of consumer.
fn batch_consumer(service: u32) -> bool {
    service % 2 == 0
}

/// A trace id for the consumer span `span_id`'s new trace: derived from
/// the span id, so the same organisation gets the same ids.
fn trace_id_for(span_id: u64) -> u128 {
    let hi = span_id.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ 0x6C69_6E6B;
    ((hi as u128) << 64) | span_id.rotate_left(29) as u128
}

/// Rewrites the spans of one generated trace (in emission order: a parent
/// before its children): each Consumer span of a batch-consuming service
/// whose parent is a Producer span of another service starts a trace of
/// its own with a link to that producer. Returns how many traces it made.
pub fn deliver_by_link(spans: &mut [GenSpan]) -> u64 {
    let producers: HashMap<u64, (u128, u32)> =
        spans.iter().filter(|s| s.kind == 4).map(|s| (s.span_id, (s.trace_id, s.service))).collect();
    // span id → the new trace of the subtree it belongs to
    let mut moved: HashMap<u64, u128> = HashMap::new();
    let mut made = 0;
    for s in spans.iter_mut() {
        if let Some(&t) = moved.get(&s.parent_id) {
            s.trace_id = t;
            moved.insert(s.span_id, t);
            continue;
        }
        let Some(&(ptrace, psvc)) = producers.get(&s.parent_id) else { continue };
        if s.kind == 5 && psvc != s.service && batch_consumer(s.service) {
            let t = trace_id_for(s.span_id);
            s.links.push((ptrace, s.parent_id));
            s.parent_id = 0;
            s.trace_id = t;
            moved.insert(s.span_id, t);
            made += 1;
        }
    }
    made
}
