//! One input through the whole pipeline: bytes → test case → every engine → verdict.
//! The fuzz targets, the campaign runner, the CLI and the tests all go through here.

use wasmdiff_engines::lineup::Submitted;
use wasmdiff_engines::{EngineSpec, Execution, KnownBug, Limits, Lineup};
use wasmdiff_gen::proxy::HostProfile;
use wasmdiff_gen::{FeatureMenu, GenerateError, Plan, TestCase};
use wasmdiff_oracle::hosts::{self, Axis};
use wasmdiff_oracle::{Divergence, DivergenceKind, Reason, Verdict};

/// A test case, what each engine observed, and the verdict.
pub struct Checked {
    pub case: TestCase,
    pub executions: Vec<Execution>,
    pub verdict: Verdict,
    /// For a divergence: the known engine bugs that explain it (empty if none does).
    pub known_bugs: Vec<&'static KnownBug>,
}

/// What a campaign tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// Modules run through plans of calls; results, traps and exported state compared.
    #[default]
    Modules,
    /// proxy-wasm filters (random ones and SDK-built ones) driven through scenarios by the
    /// host; traces compared.
    ProxyWasm,
    /// The same filters and scenarios under every host profile: the engines compared under
    /// each host, then the filter's observable behaviour between hosts.
    ProxyHosts,
    /// Modules that are sometimes invalid; whether each engine accepts them compared.
    Validation,
    /// Seed modules (the spec suite's, regression cases') changed by wasm-mutate, run through
    /// calls like modules.
    Mutate,
}

impl Target {
    /// The target whose cases have plans like `plan`.
    pub fn of(plan: &Plan) -> Target {
        match plan {
            Plan::Calls(_) => Target::Modules,
            Plan::Proxy(_) => Target::ProxyWasm,
            Plan::ProxyHosts(_) => Target::ProxyHosts,
            Plan::Validate => Target::Validation,
        }
    }

    /// A plan of the kind this target makes, to ask engines whether they can carry it out.
    pub fn sample_plan(&self) -> Plan {
        match self {
            Target::Modules | Target::Mutate => Plan::Calls(Vec::new()),
            Target::ProxyWasm => Plan::Proxy(Default::default()),
            Target::ProxyHosts => Plan::ProxyHosts(Default::default()),
            Target::Validation => Plan::Validate,
        }
    }

    /// Every target, in order.
    pub const ALL: [Target; 5] = [
        Target::Modules,
        Target::ProxyWasm,
        Target::ProxyHosts,
        Target::Validation,
        Target::Mutate,
    ];

    /// The cargo-fuzz target that fuzzes this target (`fuzz/fuzz_targets/<name>.rs`), which
    /// is also the name of its artifact directory.
    pub fn fuzz_target(&self) -> &'static str {
        match self {
            Target::Modules => "differential",
            Target::ProxyWasm => "proxy_wasm",
            Target::ProxyHosts => "proxy_hosts",
            Target::Validation => "validation",
            Target::Mutate => "mutate",
        }
    }

    /// The target a cargo-fuzz target fuzzes.
    pub fn of_fuzz_target(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.fuzz_target() == name)
    }

    /// The engines used when none are named.
    pub fn default_engines(&self) -> Vec<&'static EngineSpec> {
        wasmdiff_engines::defaults_for(&self.sample_plan())
    }

    /// Parses an `--engines` list for this target.
    pub fn parse_engines(&self, list: &str) -> anyhow::Result<Vec<&'static EngineSpec>> {
        wasmdiff_engines::parse_list_for(list, &self.sample_plan())
    }
}

pub struct Differential {
    lineup: Lineup,
    maker: CaseMaker,
}

/// What turns input bytes into test cases for a lineup: everything generation needs and no
/// engine, so that another thread can generate while the engines run.
#[derive(Clone)]
pub struct CaseMaker {
    menu: FeatureMenu,
    target: Target,
    /// The SDK filters, for the proxy-wasm target.
    sdk_filters: Vec<&'static [u8]>,
    /// The modules the mutate target changes.
    seeds: std::sync::Arc<Vec<Vec<u8>>>,
    /// The host every proxy-wasm scenario follows, if not its own.
    host: Option<HostProfile>,
    /// What the proxy-hosts target's random filters do not import: a filter importing what a
    /// host lacks only fails to link there (a pinned row).
    missing_somewhere: Vec<wasmdiff_gen::proxy::HostFn>,
}

impl CaseMaker {
    /// The test case `data` makes (the same bytes always make the same case).
    pub fn generate(&self, data: &[u8]) -> Result<TestCase, GenerateError> {
        match self.target {
            Target::Modules => wasmdiff_gen::generate(data, &self.menu),
            Target::ProxyWasm => {
                let mut case =
                    wasmdiff_gen::generate_proxy(data, &self.menu, &self.sdk_filters, &[])?;
                if let (Some(host), Plan::Proxy(scenario)) = (self.host, &mut case.plan) {
                    scenario.host = host;
                }
                Ok(case)
            }
            Target::ProxyHosts => {
                let mut case = wasmdiff_gen::generate_proxy(
                    data,
                    &self.menu,
                    &self.sdk_filters,
                    &self.missing_somewhere,
                )?;
                if let Plan::Proxy(scenario) = &case.plan {
                    // Every host runs it: the scenario's own does not count.
                    case.plan = Plan::ProxyHosts(scenario.under(HostProfile::default()));
                }
                Ok(case)
            }
            Target::Validation => wasmdiff_gen::generate_validation(data, &self.menu),
            // A fuzzer's structure-aware mutator gives modules themselves (see
            // `wasmdiff_gen::mutate::mutate_for_fuzzer`); a campaign, seed picks and mutations.
            Target::Mutate if data.starts_with(b"\0asm") => {
                wasmdiff_gen::mutate::module_input(data)
            }
            Target::Mutate => wasmdiff_gen::mutate::mutated_seed(data, &self.seeds),
        }
    }
}

impl Differential {
    pub fn new(specs: &[&'static EngineSpec], limits: Limits) -> anyhow::Result<Differential> {
        Differential::for_target(specs, limits, Target::Modules)
    }

    pub fn for_target(
        specs: &[&'static EngineSpec],
        limits: Limits,
        target: Target,
    ) -> anyhow::Result<Differential> {
        let plan = target.sample_plan();
        for spec in specs {
            if let Some(why) = spec.abilities.refuses(&plan) {
                anyhow::bail!("engine {} cannot take part: {why}", spec.name);
            }
        }
        let lineup = Lineup::new(specs, limits)?;
        let menu = lineup.menu();
        let sdk_filters = match target {
            Target::Modules | Target::Validation | Target::Mutate => Vec::new(),
            Target::ProxyWasm | Target::ProxyHosts => wasmdiff_filters::all()
                .into_iter()
                .map(|f| f.wasm)
                .collect(),
        };
        Ok(Differential {
            lineup,
            maker: CaseMaker {
                menu,
                target,
                sdk_filters,
                seeds: Default::default(),
                host: None,
                missing_somewhere: wasmdiff_proxy::profile::missing_somewhere(),
            },
        })
    }

    /// The same, with the seed modules the mutate target changes.
    pub fn with_seeds(mut self, seeds: std::sync::Arc<Vec<Vec<u8>>>) -> Differential {
        self.maker.seeds = seeds;
        self
    }

    /// The same, with every proxy-wasm scenario it generates following `host` (`None`: each
    /// scenario's own, drawn from its input).
    pub fn with_host(mut self, host: Option<HostProfile>) -> Differential {
        self.maker.host = host;
        self
    }

    pub fn lineup(&self) -> &Lineup {
        &self.lineup
    }

    /// The test case `data` makes for this lineup.
    pub fn generate(&self, data: &[u8]) -> Result<TestCase, GenerateError> {
        self.maker.generate(data)
    }

    /// What makes this lineup's test cases, for a thread of its own.
    pub fn maker(&self) -> &CaseMaker {
        &self.maker
    }

    /// Runs a test case on every engine and compares.
    pub fn run(&mut self, case: &TestCase) -> (Vec<Execution>, Verdict) {
        let executions = self.lineup.execute(case);
        let (_, executions, verdict) = self.judge(case, executions);
        (executions, verdict)
    }

    /// Compares what the engines did with `case`; for a case under every host on which the
    /// engines do not agree under one host, that host's proxy-wasm case (the executions and
    /// verdict are that case's): an engine finding is a proxy-wasm finding, whatever the
    /// hosts do.
    fn judge(
        &self,
        case: &TestCase,
        executions: Vec<Execution>,
    ) -> (Option<TestCase>, Vec<Execution>, Verdict) {
        let Plan::ProxyHosts(scenario) = &case.plan else {
            let verdict = wasmdiff_oracle::compare(&executions);
            return (None, executions, verdict);
        };
        let hosted: Vec<&Execution> = executions.iter().collect();
        match hosts::compare_hosted(&hosted) {
            Axis::Hosts(verdict) => (None, executions, verdict),
            Axis::Engines { host, verdict } => {
                let under_host = TestCase {
                    module: case.module.clone(),
                    plan: Plan::Proxy(scenario.under(HostProfile::ALL[host])),
                    generator: case.generator,
                };
                let executions = hosts::under(&hosted, host).into_iter().cloned().collect();
                (Some(under_host), executions, verdict)
            }
        }
    }

    /// The known bugs whose workarounds make the engines agree on `case`: each bug of the
    /// engines that could be wrong ([`Divergence::odd_ones`]; all engines when no class is the
    /// largest) alone first, then every bug of the lineup together (a module may trigger
    /// several, one hiding another), reduced to as few as still explain it. Empty when none
    /// explains the divergence. A workaround rewrites the module, so the divergence must first
    /// survive a plain re-encoding: otherwise the encoding, not the bug, made the difference.
    /// Costs a run per attempt.
    pub fn known_bugs(
        &mut self,
        case: &TestCase,
        executions: &[Execution],
        divergence: &Divergence,
    ) -> Vec<&'static KnownBug> {
        let suspect_engines = divergence.odd_ones(executions);
        let mut suspects: Vec<&'static KnownBug> = Vec::new();
        let mut all: Vec<&'static KnownBug> = Vec::new();
        for (i, spec) in self.lineup.specs().into_iter().enumerate() {
            let suspect = suspect_engines.as_ref().is_none_or(|odd| odd.contains(&i));
            for bug in spec.known_bugs {
                if suspect && !suspects.iter().any(|b| b.id == bug.id) {
                    suspects.push(bug);
                }
                if !all.iter().any(|b| b.id == bug.id) {
                    all.push(bug);
                }
            }
        }
        if suspects.is_empty() {
            return Vec::new();
        }
        let Some(reencoded) = wasmdiff_engines::rewrite::roundtrip(&case.module) else {
            return Vec::new();
        };
        // The re-encoding and each suspect's workaround run as one batch; their verdicts are
        // read in order, as if each ran only once the ones before it left the question open.
        let mut modules = vec![reencoded];
        let patched: Vec<Option<usize>> = suspects
            .iter()
            .map(|bug| {
                let patched = (bug.workaround)(&case.module)?;
                modules.push(patched);
                Some(modules.len() - 1)
            })
            .collect();
        let diverges = self.diverges_on_each(case, modules);
        if !diverges[0] {
            return Vec::new();
        }
        for (bug, at) in suspects.iter().zip(patched) {
            if at.is_some_and(|at| !diverges[at]) {
                return vec![bug];
            }
        }
        if all.len() < 2 || !self.agrees_with(case, &all) {
            return Vec::new();
        }
        let mut needed = all;
        let mut at = 0;
        while at < needed.len() {
            let mut fewer = needed.clone();
            fewer.remove(at);
            if !fewer.is_empty() && self.agrees_with(case, &fewer) {
                needed = fewer;
            } else {
                at += 1;
            }
        }
        needed
    }

    /// Whether the engines still diverge on `case` with `module` in place of its own.
    fn diverges_on(&mut self, case: &TestCase, module: Vec<u8>) -> bool {
        self.diverges_on_each(case, vec![module])[0]
    }

    /// [`Differential::diverges_on`] for each of `modules`, run as one batch.
    fn diverges_on_each(&mut self, case: &TestCase, modules: Vec<Vec<u8>>) -> Vec<bool> {
        let changed: Vec<TestCase> = modules
            .into_iter()
            .map(|module| TestCase {
                module,
                plan: case.plan.clone(),
                generator: case.generator,
            })
            .collect();
        let executions = self.lineup.execute_batch(&changed, |_| {});
        changed
            .iter()
            .zip(executions)
            .map(|(changed, executions)| {
                let (_, _, verdict) = self.judge(changed, executions);
                verdict.divergence().is_some()
            })
            .collect()
    }

    /// Whether the engines no longer diverge on `case` once the bugs' workarounds are applied
    /// (they agree, or every one reaches a limit first). One bug's
    /// workaround must apply; of several, those that do not apply leave the module as it is.
    fn agrees_with(&mut self, case: &TestCase, bugs: &[&KnownBug]) -> bool {
        let mut module = case.module.clone();
        for bug in bugs {
            match (bug.workaround)(&module) {
                Some(patched) => module = patched,
                None if bugs.len() > 1 => {}
                None => return false,
            }
        }
        // Agreement, or a comparison that stops where every engine reaches a limit: the
        // divergence itself is gone.
        self.run(&TestCase {
            module,
            ..case.clone()
        })
        .1
        .divergence()
        .is_none()
    }

    /// What a verdict on `case` means once explained: a divergence that NaN canonicalization
    /// makes vanish is spec-permitted nondeterminism, so inconclusive; any other comes with
    /// the known bugs that explain it (none for a new finding).
    pub fn explain(
        &mut self,
        case: &TestCase,
        executions: &[Execution],
        verdict: Verdict,
    ) -> (Verdict, Vec<&'static KnownBug>) {
        let Verdict::Diverge(divergence) = verdict else {
            return (verdict, Vec::new());
        };
        // A difference between hosts is no engine's bug.
        if divergence.kind == DivergenceKind::Portability {
            return (Verdict::Diverge(divergence), Vec::new());
        }
        if could_be_nan_bits(divergence.kind)
            && let Some(canonical) = wasmdiff_engines::rewrite::canonicalize_nans(&case.module)
            && !self.diverges_on(case, canonical)
        {
            let engines = divergence.classes.iter().flatten().copied().collect();
            let verdict = Verdict::Inconclusive {
                step: divergence.step,
                reason: Reason::NanNondeterminism,
                engines,
            };
            return (verdict, Vec::new());
        }
        let known_bugs = self.known_bugs(case, executions, &divergence);
        (Verdict::Diverge(divergence), known_bugs)
    }

    /// Runs a test case everywhere, compares, and explains a divergence.
    pub fn check_case(&mut self, case: TestCase) -> Checked {
        let executions = self.lineup.execute(&case);
        self.check_executed(case, executions)
    }

    /// Runs several test cases everywhere at once (see [`Lineup::execute_batch`], which
    /// calls `holding`), each engine's executions in case order, for
    /// [`Differential::check_executed`].
    pub fn execute_batch(
        &mut self,
        cases: &[TestCase],
        holding: impl FnMut(usize),
    ) -> Vec<Vec<Execution>> {
        self.lineup.execute_batch(cases, holding)
    }

    /// [`Differential::execute_batch`] in two halves ([`Lineup::submit_batch`] and
    /// [`Lineup::finish_batch`]): between them, engines in other processes work while the
    /// caller does something else.
    pub fn submit_batch(&mut self, cases: &[TestCase]) -> Submitted {
        self.lineup.submit_batch(cases)
    }

    pub fn finish_batch(
        &mut self,
        cases: &[TestCase],
        submitted: Submitted,
        holding: impl FnMut(usize),
    ) -> Vec<Vec<Execution>> {
        self.lineup.finish_batch(cases, submitted, holding)
    }

    /// Compares the engines' executions of `case` and explains a divergence (which runs the
    /// case again, with known bugs' workarounds).
    pub fn check_executed(&mut self, case: TestCase, executions: Vec<Execution>) -> Checked {
        let (under_host, executions, verdict) = self.judge(&case, executions);
        let case = under_host.unwrap_or(case);
        let (verdict, known_bugs) = self.explain(&case, &executions, verdict);
        Checked {
            case,
            executions,
            verdict,
            known_bugs,
        }
    }

    /// Generates the test case for `data` and checks it.
    pub fn check(&mut self, data: &[u8]) -> Result<Checked, GenerateError> {
        Ok(self.check_case(self.generate(data)?))
    }
}

/// Whether NaN bits could be behind a divergence of this kind: anything a value can steer,
/// but not a crash, a module's acceptance or its instantiation (constant expressions do no
/// float arithmetic).
fn could_be_nan_bits(kind: DivergenceKind) -> bool {
    matches!(
        kind,
        DivergenceKind::ReturnValue
            | DivergenceKind::TrapVsReturn
            | DivergenceKind::TrapKind
            | DivergenceKind::ExportedState
            | DivergenceKind::Trace
            | DivergenceKind::FinalState
    )
}
