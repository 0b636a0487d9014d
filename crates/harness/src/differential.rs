//! One input through the whole pipeline: bytes → test case → every engine → verdict.
//! The fuzz targets, the campaign runner, the CLI and the tests all go through here.

use wasmdiff_engines::{EngineSpec, Execution, KnownBug, Limits, Lineup};
use wasmdiff_gen::{FeatureMenu, GenerateError, Plan, TestCase};
use wasmdiff_oracle::{Divergence, DivergenceKind, Verdict};

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
    /// Modules that are sometimes invalid; whether each engine accepts them compared.
    Validation,
}

impl Target {
    /// The target whose cases have plans like `plan`.
    pub fn of(plan: &Plan) -> Target {
        match plan {
            Plan::Calls(_) => Target::Modules,
            Plan::Proxy(_) => Target::ProxyWasm,
            Plan::Validate => Target::Validation,
        }
    }

    /// A plan of the kind this target makes, to ask engines whether they can carry it out.
    pub fn sample_plan(&self) -> Plan {
        match self {
            Target::Modules => Plan::Calls(Vec::new()),
            Target::ProxyWasm => Plan::Proxy(Default::default()),
            Target::Validation => Plan::Validate,
        }
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
    menu: FeatureMenu,
    target: Target,
    /// The SDK filters, for the proxy-wasm target.
    sdk_filters: Vec<&'static [u8]>,
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
            Target::Modules | Target::Validation => Vec::new(),
            Target::ProxyWasm => wasmdiff_filters::all()
                .into_iter()
                .map(|f| f.wasm)
                .collect(),
        };
        Ok(Differential {
            lineup,
            menu,
            target,
            sdk_filters,
        })
    }

    pub fn lineup(&self) -> &Lineup {
        &self.lineup
    }

    /// What the lineup's modules may use: the generator stays inside it.
    pub fn menu(&self) -> &FeatureMenu {
        &self.menu
    }

    pub fn generate(&self, data: &[u8]) -> Result<TestCase, GenerateError> {
        match self.target {
            Target::Modules => wasmdiff_gen::generate(data, &self.menu),
            Target::ProxyWasm => wasmdiff_gen::generate_proxy(data, &self.menu, &self.sdk_filters),
            Target::Validation => wasmdiff_gen::generate_validation(data, &self.menu),
        }
    }

    /// Runs a test case on every engine and compares.
    pub fn run(&mut self, case: &TestCase) -> (Vec<Execution>, Verdict) {
        let executions = self.lineup.execute(case);
        let verdict = wasmdiff_oracle::compare(&executions);
        (executions, verdict)
    }

    /// The known bugs whose workarounds make the engines agree on `case`: each bug alone
    /// first, then all of them together (a module may trigger several). Empty when none
    /// explains the divergence. Only the bugs of engines that could be the wrong ones are
    /// tried: outside the one largest class of agreeing engines (where there is one), and, for
    /// a crash or hang, among the engines that failed. A workaround rewrites the module, so
    /// the divergence must first survive a plain re-encoding: otherwise the encoding, not the
    /// bug, made the difference. Costs a run per attempt.
    pub fn known_bugs(
        &mut self,
        case: &TestCase,
        executions: &[Execution],
        divergence: &Divergence,
    ) -> Vec<&'static KnownBug> {
        let largest = divergence.classes.iter().map(Vec::len).max().unwrap_or(0);
        let majority: Vec<usize> = match divergence
            .classes
            .iter()
            .filter(|c| c.len() == largest)
            .collect::<Vec<_>>()[..]
        {
            [one] => one.clone(),
            _ => Vec::new(),
        };
        let failed = matches!(
            divergence.kind,
            DivergenceKind::Crash | DivergenceKind::Hang | DivergenceKind::OutOfMemory
        );
        let mut suspects: Vec<&'static KnownBug> = Vec::new();
        let mut all: Vec<&'static KnownBug> = Vec::new();
        for (i, spec) in self.lineup.specs().into_iter().enumerate() {
            let suspect = match failed {
                true => matches!(executions[i], Execution::Crashed { .. }),
                false => !majority.contains(&i),
            };
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
        let reencoded = TestCase {
            module: reencoded,
            ..case.clone()
        };
        if self.run(&reencoded).1.divergence().is_none() {
            return Vec::new();
        }
        for bug in &suspects {
            if self.agrees_with(case, &[bug]) {
                return vec![bug];
            }
        }
        // Several bugs at once (a suspect's, hiding behind another engine's, say): all of them,
        // then as few as still explain it.
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

    /// Whether the engines agree on `case` once the bugs' workarounds are applied.
    fn agrees_with(&mut self, case: &TestCase, bugs: &[&KnownBug]) -> bool {
        let mut module = case.module.clone();
        for bug in bugs {
            match (bug.workaround)(&module) {
                Some(patched) => module = patched,
                None => return false,
            }
        }
        self.run(&TestCase {
            module,
            ..case.clone()
        })
        .1 == Verdict::Agree
    }

    /// Runs a test case everywhere, compares, and explains a divergence by a known bug if one
    /// does.
    pub fn check_case(&mut self, case: TestCase) -> Checked {
        let (executions, verdict) = self.run(&case);
        let known_bugs = match &verdict {
            Verdict::Diverge(divergence) => self.known_bugs(&case, &executions, divergence),
            _ => Vec::new(),
        };
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
