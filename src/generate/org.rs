//! A seeded, realistic organisation: teams, layered services with
//! operations, downstream calls, databases/caches/brokers, async consumers,
//! and the catalog/teams/incidents files that describe it (SPEC §1.2–1.4).

use super::rng::Rng;

pub const TEAM_NAMES: &[&str] = &[
    "storefront", "payments", "identity", "search", "logistics", "platform", "growth", "catalog-team",
    "messaging", "data", "mobile", "risk", "marketplace", "trust-safety", "infra", "devtools", "support", "partners",
    "finance", "content",
];
const ZONES: &[&str] = &[
    "Europe/Berlin", "America/New_York", "Europe/London", "Asia/Kolkata", "America/Los_Angeles", "Australia/Sydney",
];
const NOUNS: &[&str] = &[
    "checkout", "cart", "payments", "ledger", "auth", "users", "profile", "search", "ranking", "inventory",
    "pricing", "shipping", "orders", "notifications", "email", "recommend", "reviews", "media", "billing",
    "fraud", "gateway", "web", "mobile-bff", "catalog", "stock", "tax", "coupons", "loyalty", "geo", "audit",
    "sessions", "feeds", "ads", "reports", "export", "import", "scheduler", "webhooks", "quotes", "returns",
];
const PEOPLE: &[&str] = &[
    "ana", "ben", "chen", "dara", "eli", "fay", "gus", "hana", "ivo", "jun", "kai", "lea", "max", "nia", "omar",
    "pia", "quin", "rui", "sam", "tia", "uma", "vic", "wes", "xia", "yan", "zoe",
];

/// Surnames, so that every generated person is someone else: 26 × 13
/// distinct names, more than 20 teams of at most 12 people need.
const SURNAMES: &[&str] = &["park", "okafor", "silva", "novak", "haas", "ito", "reyes", "berg", "khan", "moreau", "lund", "costa", "weber"];

/// The `n`th generated person: first names cycle fastest, so a team's
/// members have different first names.
fn person(n: usize) -> String {
    format!("{}.{}", PEOPLE[n % PEOPLE.len()], SURNAMES[(n / PEOPLE.len()) % SURNAMES.len()])
}

/// Every this-many-th team also puts the previous team's first on-call
/// person on its rotation: a few people carry two rotations, none more.
const SHARED_EVERY: usize = 4;

/// An uninstrumented dependency: database, cache or broker.
#[derive(Debug, Clone)]
pub struct Backend {
    pub name: &'static str,
    /// attribute key that names it (`db.system`, `messaging.system`, `peer.service`)
    pub attr: &'static str,
}

pub const BACKENDS: &[Backend] = &[
    Backend { name: "postgresql", attr: "db.system" },
    Backend { name: "redis", attr: "db.system" },
    Backend { name: "mysql", attr: "db.system.name" },
    Backend { name: "stripe-api", attr: "peer.service" },
];
pub const BROKER: &str = "kafka";

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub team: usize,
    pub layer: usize,
    pub ops: Vec<String>,
    /// synchronous downstream services (indexes)
    pub calls: Vec<usize>,
    /// uninstrumented backends (indexes into BACKENDS)
    pub backends: Vec<usize>,
    /// async consumer service, reached through the broker
    pub publishes_to: Option<usize>,
    /// median own latency (ms) and error probability of own work
    pub median_ms: f64,
    pub error_rate: f64,
    pub in_catalog: bool,
}

#[derive(Debug, Clone)]
pub struct Team {
    pub name: String,
    pub timezone: &'static str,
    pub members: Vec<String>,
    pub rotation: Vec<String>,
    pub shift_hours: u32,
    pub sites: u32,
    /// incidents per week (mean)
    pub incident_rate: f64,
}

#[derive(Debug, Clone)]
pub struct Org {
    pub teams: Vec<Team>,
    pub services: Vec<Service>,
}

impl Org {
    pub fn new(n_services: usize, rng: &mut Rng) -> Org {
        let n_services = n_services.max(3);
        let n_teams = (n_services / 4).clamp(2, TEAM_NAMES.len());
        let mut next_person = 0;
        let mut previous_on_call: Option<String> = None;
        let teams: Vec<Team> = (0..n_teams)
            .map(|i| {
                let size = 4 + rng.below(9) as usize; // 4..12
                let mut members: Vec<String> = (next_person..next_person + size).map(person).collect();
                next_person += size;
                let rot = (size - rng.below(2) as usize).max(2);
                let mut rotation = members[..rot].to_vec();
                let first_on_call = rotation[0].clone();
                if let Some(p) = previous_on_call.take().filter(|_| i % SHARED_EVERY == SHARED_EVERY - 1) {
                    members.push(p.clone());
                    rotation.push(p);
                }
                previous_on_call = Some(first_on_call);
                Team {
                    name: TEAM_NAMES[i].to_string(),
                    timezone: ZONES[i % ZONES.len()],
                    rotation,
                    members,
                    shift_hours: if rng.chance(0.25) { 12 } else { 168 },
                    sites: if rng.chance(0.2) { 2 } else { 1 },
                    // one team clearly overloaded, one quiet, the rest in between
                    incident_rate: match i {
                        0 => 40.0,
                        1 => 0.5,
                        _ => 2.0 + rng.f64() * 8.0,
                    },
                }
            })
            .collect();
        let layers = 4;
        let mut services: Vec<Service> = (0..n_services)
            .map(|i| {
                let base = NOUNS[i % NOUNS.len()];
                let name = if i < NOUNS.len() { base.to_string() } else { format!("{base}-{}", i / NOUNS.len() + 1) };
                let layer = if i == 0 { 0 } else { (i * layers / n_services).min(layers - 1) };
                let n_ops = 1 + rng.below(3) as usize;
                let ops = (0..n_ops)
                    .map(|k| match (layer, k) {
                        (0, 0) => format!("GET /{base}"),
                        (0, _) => format!("POST /{base}/{k}"),
                        (_, 0) => format!("{}.Get", capitalise(base)),
                        _ => format!("{}.Op{k}", capitalise(base)),
                    })
                    .collect();
                Service {
                    name,
                    team: i % n_teams,
                    layer,
                    ops,
                    calls: vec![],
                    backends: vec![],
                    publishes_to: None,
                    median_ms: 2.0 + rng.f64() * 20.0,
                    error_rate: if rng.chance(0.15) { 0.02 } else { 0.002 },
                    in_catalog: true,
                }
            })
            .collect();
        for i in 0..n_services {
            let layer = services[i].layer;
            let deeper: Vec<usize> = (0..n_services).filter(|&j| services[j].layer > layer).collect();
            if !deeper.is_empty() {
                let k = 1 + rng.below(3) as usize;
                for _ in 0..k {
                    let j = deeper[rng.below(deeper.len() as u64) as usize];
                    if !services[i].calls.contains(&j) {
                        services[i].calls.push(j);
                    }
                }
            }
            if layer >= 2 || rng.chance(0.3) {
                services[i].backends.push(rng.below(BACKENDS.len() as u64) as usize);
            }
            if rng.chance(0.2) {
                let j = rng.below(n_services as u64) as usize;
                if j != i && services[j].layer > 0 {
                    services[i].publishes_to = Some(j);
                }
            }
        }
        // A couple of services nobody wrote down: ownership gaps.
        let n = services.len();
        services[n - 1].in_catalog = false;
        if n > 8 {
            services[n / 2].in_catalog = false;
        }
        Org { teams, services }
    }

    pub fn roots(&self) -> Vec<usize> {
        (0..self.services.len()).filter(|&i| self.services[i].layer == 0).collect()
    }
}

fn capitalise(s: &str) -> String {
    let s: String = s.split('-').map(|p| {
        let mut c = p.chars();
        match c.next() {
            Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
            None => String::new(),
        }
    }).collect();
    format!("{s}Service")
}
