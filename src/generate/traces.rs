//! Trace synthesis: client/server span pairs down the service layers, calls
//! to uninstrumented backends, producer→consumer pairs, internal spans, a few
//! orphans, errors injected deep and propagated upward, occasional
//! client-side timeouts and lost server spans, lognormal latencies.

use super::org::{BACKENDS, BROKER, Org};
use super::rng::Rng;

pub const KIND_NAMES: [&str; 6] = ["Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"];
pub const STATUS_NAMES: [&str; 3] = ["Unset", "Ok", "Error"];

/// One generated span (ids as numbers; written as hex).
#[derive(Debug, Clone)]
pub struct GenSpan {
    pub trace_id: u128,
    pub span_id: u64,
    pub parent_id: u64,
    pub start_ns: i64,
    pub duration_ns: i64,
    pub service: u32,
    pub name: String,
    pub kind: u8,
    pub status: u8,
    pub attrs: Vec<(&'static str, String)>,
    /// W3C tracestate (set by a sampling policy, [`super::sampling`])
    pub trace_state: String,
    /// span links (trace id, span id), set by [`super::links`]
    pub links: Vec<(u128, u64)>,
}

pub struct TraceGen<'a> {
    pub org: &'a Org,
    pub rng: Rng,
    next_span: u64,
}

const MS: f64 = 1e6;

impl<'a> TraceGen<'a> {
    pub fn new(org: &'a Org, seed: u64) -> Self {
        TraceGen { org, rng: Rng::new(seed), next_span: 1 }
    }

    fn span_id(&mut self) -> u64 {
        // Unique within a run, and not obviously sequential.
        self.next_span += 1;
        self.next_span.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1
    }

    /// Appends the spans of one trace starting at `start_ns` to `out`.
    pub fn trace(&mut self, start_ns: i64, out: &mut Vec<GenSpan>) {
        let roots = self.org.roots();
        let root = roots[self.rng.below(roots.len() as u64) as usize];
        let trace_id = ((self.rng.next_u64() as u128) << 64) | self.rng.next_u64() as u128;
        let first = out.len();
        let op = self.pick_op(root);
        self.serve(trace_id, root, op, 0, 2, start_ns, 0, out);
        // A few orphans: a span whose parent was lost in export.
        if out.len() - first > 2 && self.rng.chance(0.003) {
            let i = first + 1 + self.rng.below((out.len() - first - 1) as u64) as usize;
            out[i].parent_id = self.rng.next_u64() | 1;
        }
    }

    fn pick_op(&mut self, svc: usize) -> String {
        let ops = &self.org.services[svc].ops;
        ops[self.rng.below(ops.len() as u64) as usize].clone()
    }

    /// Emits an entry span of `svc` (Server or Consumer) and its subtree;
    /// returns (duration, error).
    #[allow(clippy::too_many_arguments)]
    fn serve(
        &mut self,
        trace_id: u128,
        svc: usize,
        op: String,
        parent: u64,
        kind: u8,
        start: i64,
        depth: usize,
        out: &mut Vec<GenSpan>,
    ) -> (i64, bool) {
        let me = self.span_id();
        let idx = out.len();
        out.push(GenSpan {
            trace_id,
            span_id: me,
            parent_id: parent,
            start_ns: start,
            duration_ns: 0,
            service: svc as u32,
            name: op,
            kind,
            status: 0,
            attrs: vec![],
            trace_state: String::new(),
            links: vec![],
        });
        let s = &self.org.services[svc];
        let (median, err_rate, calls, backends, publishes) =
            (s.median_ms, s.error_rate, s.calls.clone(), s.backends.clone(), s.publishes_to);
        let mut t = start + (self.rng.lognormal(median * 0.3, 0.5) * MS) as i64;
        let mut error = false;
        if self.rng.chance(0.3) {
            let d = (self.rng.lognormal(median * 0.2, 0.6) * MS) as i64;
            let id = self.span_id();
            out.push(GenSpan {
                trace_id,
                span_id: id,
                parent_id: me,
                start_ns: t,
                duration_ns: d,
                service: svc as u32,
                name: "render".into(),
                kind: 1,
                status: 0,
                attrs: vec![],
                trace_state: String::new(),
                links: vec![],
            });
            t += d;
        }
        if depth < 8 {
            for j in calls {
                if self.rng.chance(0.2) {
                    continue;
                }
                let (d, e) = self.call(trace_id, svc, j, me, t, depth, out);
                t += d;
                error |= e && self.rng.chance(0.9);
            }
            for b in backends {
                let n = 1 + self.rng.below(3);
                for _ in 0..n {
                    let d = (self.rng.lognormal(1.2, 0.7) * MS) as i64;
                    let e = self.rng.chance(0.001);
                    let be = &BACKENDS[b];
                    let id = self.span_id();
                    let mut attrs = vec![(be.attr, be.name.to_string())];
                    if be.attr != "peer.service" {
                        attrs.push(("server.address", format!("{}.internal", be.name)));
                    }
                    out.push(GenSpan {
                        trace_id,
                        span_id: id,
                        parent_id: me,
                        start_ns: t,
                        duration_ns: d,
                        service: svc as u32,
                        name: if be.attr == "peer.service" { "POST /v1/charges".into() } else { "SELECT".into() },
                        kind: 3,
                        status: if e { 2 } else { 0 },
                        attrs,
                        trace_state: String::new(),
                links: vec![],
                    });
                    t += d;
                    error |= e && self.rng.chance(0.5);
                }
            }
            if let Some(c) = publishes.filter(|_| self.rng.chance(0.5)) {
                let pid = self.span_id();
                let d = (self.rng.lognormal(0.5, 0.5) * MS) as i64;
                out.push(GenSpan {
                    trace_id,
                    span_id: pid,
                    parent_id: me,
                    start_ns: t,
                    duration_ns: d,
                    service: svc as u32,
                    name: format!("{} publish", self.org.services[c].name),
                    kind: 4,
                    status: 0,
                    attrs: vec![("messaging.system", BROKER.into()), ("messaging.destination.name", "events".into())],
                    trace_state: String::new(),
                links: vec![],
                });
                let lag = (self.rng.lognormal(20.0, 0.8) * MS) as i64;
                let cop = format!("{} process", self.org.services[c].name);
                self.serve(trace_id, c, cop, pid, 5, t + lag, depth + 1, out);
                t += d;
            }
        }
        // Deep injection: a service fails on its own now and then.
        if self.rng.chance(err_rate) {
            error = true;
        }
        t += (self.rng.lognormal(median * 0.2, 0.4) * MS) as i64;
        out[idx].duration_ns = t - start;
        out[idx].status = if error { 2 } else if self.rng.chance(0.5) { 1 } else { 0 };
        (t - start, error)
    }

    /// A synchronous call from `svc` to `callee`: a Client span with the
    /// callee's Server span under it. Returns (caller-side duration, error).
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        trace_id: u128,
        svc: usize,
        callee: usize,
        parent: u64,
        start: i64,
        depth: usize,
        out: &mut Vec<GenSpan>,
    ) -> (i64, bool) {
        let cid = self.span_id();
        let idx = out.len();
        let op = self.pick_op(callee);
        let callee_name = self.org.services[callee].name.clone();
        out.push(GenSpan {
            trace_id,
            span_id: cid,
            parent_id: parent,
            start_ns: start,
            duration_ns: 0,
            service: svc as u32,
            name: op.clone(),
            kind: 3,
            status: 0,
            attrs: vec![("server.address", format!("{callee_name}.svc"))],
            trace_state: String::new(),
            links: vec![],
        });
        let net = (self.rng.lognormal(0.4, 0.5) * MS) as i64;
        // Rarely the server half was lost in export: the call then goes to a
        // virtual node named after the address.
        if self.rng.chance(0.0005) {
            out[idx].duration_ns = 2 * net + (self.rng.lognormal(5.0, 0.5) * MS) as i64;
            return (out[idx].duration_ns, false);
        }
        let (d, e) = self.serve(trace_id, callee, op, cid, 2, start + net, depth + 1, out);
        let mut dur = d + 2 * net;
        let mut err = e;
        // Occasional client-side timeout: the caller gives up at 1 s.
        if self.rng.chance(0.0008) {
            dur = dur.max(1_000_000_000);
            err = true;
        }
        out[idx].duration_ns = dur;
        out[idx].status = if err { 2 } else { 0 };
        (dur, err)
    }
}
