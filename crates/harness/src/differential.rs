//! One input through the whole pipeline: bytes → test case → every engine → verdict.
//! The fuzz targets, the campaign runner, the CLI and the tests all go through here.

use wasmdiff_engines::{EngineSpec, Execution, KnownBug, Limits, Lineup};
use wasmdiff_gen::{Features, GenerateError, TestCase};
use wasmdiff_oracle::Verdict;

/// A test case, what each engine observed, and the verdict.
pub struct Checked {
    pub case: TestCase,
    pub executions: Vec<Execution>,
    pub verdict: Verdict,
    /// For a divergence: the known engine bugs that explain it (empty if none does).
    pub known_bugs: Vec<&'static KnownBug>,
}

/// What a campaign tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Target {
    /// Modules run through plans of calls; results, traps and exported state compared.
    #[default]
    Modules,
    /// proxy-wasm filters (random ones and SDK-built ones) driven through scenarios by the
    /// host; traces compared.
    ProxyWasm,
}

pub struct Differential {
    lineup: Lineup,
    features: Features,
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
        let lineup = Lineup::new(specs, limits)?;
        let features = lineup.features();
        let sdk_filters = match target {
            Target::Modules => Vec::new(),
            Target::ProxyWasm => wasmdiff_filters::all()
                .into_iter()
                .map(|f| f.wasm)
                .collect(),
        };
        Ok(Differential {
            lineup,
            features,
            target,
            sdk_filters,
        })
    }

    pub fn lineup(&self) -> &Lineup {
        &self.lineup
    }

    /// What every engine in the lineup supports: the generator stays inside it.
    pub fn features(&self) -> &Features {
        &self.features
    }

    pub fn generate(&self, data: &[u8]) -> Result<TestCase, GenerateError> {
        match self.target {
            Target::Modules => wasmdiff_gen::generate(data, &self.features),
            Target::ProxyWasm => {
                wasmdiff_gen::generate_proxy(data, &self.features, &self.sdk_filters)
            }
        }
    }

    /// Runs a test case on every engine and compares.
    pub fn run(&mut self, case: &TestCase) -> (Vec<Execution>, Verdict) {
        let executions = self.lineup.execute(case);
        let verdict = wasmdiff_oracle::compare(&executions);
        (executions, verdict)
    }

    /// The known bugs, of engines in the lineup, whose workarounds make the engines agree on
    /// `case`: each bug alone first, then all of them together (a module may trigger several).
    /// Empty when none explains the divergence. A workaround rewrites the module, so the
    /// divergence must first survive a plain re-encoding: otherwise the encoding, not the bug,
    /// made the difference. Costs a run per attempt.
    pub fn known_bugs(&mut self, case: &TestCase) -> Vec<&'static KnownBug> {
        let mut bugs: Vec<&'static KnownBug> = Vec::new();
        for spec in self.lineup.specs() {
            for bug in spec.known_bugs {
                if !bugs.iter().any(|b| b.id == bug.id) {
                    bugs.push(bug);
                }
            }
        }
        if bugs.is_empty() {
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
        for bug in &bugs {
            if self.agrees_with(case, &[bug]) {
                return vec![bug];
            }
        }
        if bugs.len() > 1 && self.agrees_with(case, &bugs) {
            return bugs;
        }
        Vec::new()
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
        let known_bugs = match verdict {
            Verdict::Diverge(_) => self.known_bugs(&case),
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
