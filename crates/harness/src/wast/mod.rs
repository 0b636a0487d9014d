//! The WebAssembly spec test suite on every engine: each command of a `.wast` script judged
//! twice, against what the script expects and against the other engines. A module's commands
//! run as one plan of calls on one instance (so state carries from call to call as the script
//! means it); `spectest` imports become definitions ([`spectest`]), so that every engine can
//! take them; what an engine cannot run is skipped with the reason and counted.

pub mod baseline;
pub mod script;
pub mod spectest;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use wasmdiff_engines::{CallOutcome, EngineSpec, Execution, Limits, Lineup, TrapKind};
use wasmdiff_gen::{Features, Generator, Invocation, Plan, TestCase, Value};

use script::{Action, Command, CommandKind, Expect, ModuleExpect, Script};
use spectest::LinkError;

/// What an engine made of one command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "judgement", rename_all = "kebab-case")]
pub enum Judgement {
    Passed,
    Failed { expected: String, got: String },
    Skipped { reason: String },
}

/// One command of a script: where it is, what it is, and each engine's judgement.
#[derive(Clone, Debug, Serialize)]
pub struct CommandResult {
    pub line: usize,
    pub what: String,
    /// Per engine, in the runner's order.
    pub judgements: Vec<Judgement>,
    /// Whether the engines that ran it disagree with each other.
    pub engines_disagree: bool,
}

/// A script's results.
#[derive(Clone, Debug, Serialize)]
pub struct ScriptResult {
    pub file: String,
    pub commands: Vec<CommandResult>,
}

/// The engines a script runs on, one lineup each (so each runs alone, at its own pace).
pub struct Runner {
    engines: Vec<(&'static EngineSpec, Lineup)>,
}

impl Runner {
    pub fn new(specs: &[&'static EngineSpec], limits: Limits) -> anyhow::Result<Runner> {
        let engines = specs
            .iter()
            .map(|spec| Ok((*spec, Lineup::new(&[spec], limits)?)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Runner { engines })
    }

    pub fn specs(&self) -> Vec<&'static EngineSpec> {
        self.engines.iter().map(|(spec, _)| *spec).collect()
    }

    /// Time each engine has spent executing, in order.
    pub fn busy(&self) -> Vec<std::time::Duration> {
        self.engines
            .iter()
            .map(|(_, lineup)| lineup.busy_times()[0])
            .collect()
    }

    /// Runs every command of `script` on every engine.
    pub fn run(&mut self, script: &Script) -> ScriptResult {
        let plan = plan(script);
        let mut judgements: Vec<Vec<Judgement>> = Vec::new();
        let mut outcomes: Vec<Vec<Option<CallOutcome>>> = Vec::new();
        for (spec, lineup) in &mut self.engines {
            let (j, o) = run_on(spec, lineup, script, &plan);
            judgements.push(j);
            outcomes.push(o);
        }
        let commands = script
            .commands
            .iter()
            .enumerate()
            .map(|(i, command)| {
                let ran: Vec<Execution> = outcomes
                    .iter()
                    .filter_map(|o| o[i].clone())
                    .map(|outcome| Execution::Ran {
                        calls: vec![outcome],
                        exports: Vec::new(),
                    })
                    .collect();
                CommandResult {
                    line: command.line,
                    what: describe(command),
                    judgements: judgements.iter().map(|j| j[i].clone()).collect(),
                    engines_disagree: ran.len() > 1
                        && wasmdiff_oracle::compare(&ran).divergence().is_some(),
                }
            })
            .collect();
        ScriptResult {
            file: script.path.display().to_string(),
            commands,
        }
    }
}

/// A command in a few words, for the matrix.
fn describe(command: &Command) -> String {
    match &command.kind {
        CommandKind::Module { id, .. } => match id {
            Some(id) => format!("module ${id}"),
            None => "module".into(),
        },
        CommandKind::Register { name, .. } => format!("register \"{name}\""),
        CommandKind::Action { action, expect, .. } => {
            let what = match action {
                Action::Invoke { name, args } => {
                    let args: Vec<String> = args.iter().map(Value::to_string).collect();
                    format!("invoke \"{name}\" ({})", args.join(" "))
                }
                Action::Get { global } => format!("get \"{global}\""),
                Action::Impossible(why) => format!("(an invoke not run: {why})"),
            };
            match expect {
                Expect::Anything => what,
                Expect::Values(_) => format!("assert_return {what}"),
                Expect::Trap(..) => format!("assert_trap {what}"),
                Expect::Exhaustion => format!("assert_exhaustion {what}"),
            }
        }
        CommandKind::ModuleAssertion { expect, .. } => match expect {
            ModuleExpect::Invalid => "assert_invalid".into(),
            ModuleExpect::Malformed => "assert_malformed".into(),
            ModuleExpect::Unlinkable => "assert_unlinkable".into(),
            ModuleExpect::Uninstantiable(..) => "assert_trap (module)".into(),
        },
        CommandKind::Unsupported(why) => format!("(not run: {why})"),
    }
}

/// The script's modules as instances, each with the commands that act on it.
struct ScriptPlan {
    instances: Vec<Instance>,
    /// The instance each action command acts on (`None`: no module before it).
    acts_on: BTreeMap<usize, Option<usize>>,
    /// What the script's valid modules need, together: engines lacking it sit out the
    /// assertions about invalid modules too.
    features: Features,
}

struct Instance {
    command: usize,
    /// The module with `spectest` defined in, or why it cannot be given to an engine.
    module: Result<Vec<u8>, LinkError>,
    instantiate: bool,
    actions: Vec<usize>,
    /// From this command on, another module shares the instance's state (it imports its
    /// memory, table or globals, or the same `spectest` memory or table), which wasmdiff's
    /// engines cannot share: the instance's later actions are not judged.
    shared_from: Option<usize>,
}

/// What a module imports: `(module, name)` of each memory, table and global import, the
/// state it shares.
fn stateful_imports(module: &[u8]) -> Vec<(String, String)> {
    let mut imports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let Ok(wasmparser::Payload::ImportSection(reader)) = payload {
            for import in reader.into_imports().flatten() {
                if !matches!(import.ty, wasmparser::TypeRef::Func(_)) {
                    imports.push((import.module.to_string(), import.name.to_string()));
                }
            }
        }
    }
    imports
}

fn plan(script: &Script) -> ScriptPlan {
    let mut instances: Vec<Instance> = Vec::new();
    let mut named: BTreeMap<String, usize> = BTreeMap::new();
    let mut registered: BTreeMap<String, usize> = BTreeMap::new();
    // The instances holding each `spectest` memory or table a module imported.
    let mut spectest_users: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut current = None;
    let mut acts_on = BTreeMap::new();
    let mut features = Features::NONE;
    for (index, command) in script.commands.iter().enumerate() {
        match &command.kind {
            CommandKind::Module {
                id,
                bytes,
                instantiate,
            } => {
                if let Some(needed) = Features::needed_by(bytes) {
                    features = features.union(&needed);
                }
                instances.push(Instance {
                    command: index,
                    module: spectest::link(bytes),
                    instantiate: *instantiate,
                    actions: Vec::new(),
                    shared_from: None,
                });
                let at = instances.len() - 1;
                share(
                    &mut instances,
                    bytes,
                    Some(at),
                    index,
                    &registered,
                    &mut spectest_users,
                );
                current = Some(at);
                if let Some(id) = id {
                    named.insert(id.clone(), at);
                }
            }
            // A module that fails to link or instantiate may still have written to the
            // state it imports.
            CommandKind::ModuleAssertion {
                module: Some(bytes),
                ..
            } => share(
                &mut instances,
                bytes,
                None,
                index,
                &registered,
                &mut spectest_users,
            ),
            CommandKind::Register { name, module } => {
                let target = match module {
                    Some(id) => named.get(id).copied(),
                    None => current,
                };
                if let Some(at) = target {
                    registered.insert(name.clone(), at);
                }
            }
            CommandKind::Action { module, .. } => {
                let target = match module {
                    Some(id) => named.get(id).copied(),
                    None => current,
                };
                if let Some(at) = target {
                    instances[at].actions.push(index);
                }
                acts_on.insert(index, target);
            }
            _ => {}
        }
    }
    ScriptPlan {
        instances,
        acts_on,
        features,
    }
}

/// Marks the instances whose state `module` (the instance `at`, if it is one, defined by
/// command `index`) shares: the registered ones it imports memories, tables or globals from,
/// and those importing the same `spectest` memory or table (each then has its own copy here).
fn share(
    instances: &mut [Instance],
    module: &[u8],
    at: Option<usize>,
    index: usize,
    registered: &BTreeMap<String, usize>,
    spectest_users: &mut BTreeMap<String, Vec<usize>>,
) {
    for (from, name) in stateful_imports(module) {
        let sharers: Vec<usize> = match (from.as_str(), at) {
            ("spectest", Some(at)) => {
                let users = spectest_users.entry(name).or_default();
                users.push(at);
                match users.len() {
                    1 => Vec::new(),
                    _ => users.clone(),
                }
            }
            ("spectest", None) => spectest_users.get(&name).cloned().unwrap_or_default(),
            (other, _) => registered.get(other).copied().into_iter().collect(),
        };
        for sharer in sharers {
            instances[sharer].shared_from.get_or_insert(index);
        }
    }
}

fn skipped(reason: impl Into<String>) -> Judgement {
    Judgement::Skipped {
        reason: reason.into(),
    }
}

fn failed(expected: impl Into<String>, got: impl Into<String>) -> Judgement {
    Judgement::Failed {
        expected: expected.into(),
        got: got.into(),
    }
}

/// One engine's judgement of every command, and the outcome of each action it ran.
fn run_on(
    spec: &EngineSpec,
    lineup: &mut Lineup,
    script: &Script,
    plan: &ScriptPlan,
) -> (Vec<Judgement>, Vec<Option<CallOutcome>>) {
    let count = script.commands.len();
    let mut judgements: Vec<Option<Judgement>> = vec![None; count];
    let mut outcomes: Vec<Option<CallOutcome>> = vec![None; count];
    for instance in &plan.instances {
        let (module_judgement, actions) = run_instance(spec, lineup, script, instance);
        judgements[instance.command] = Some(module_judgement);
        for (command, (judgement, outcome)) in instance.actions.iter().zip(actions) {
            judgements[*command] = Some(judgement);
            outcomes[*command] = outcome;
        }
    }
    let lacking = !spec.features.covers(&plan.features);
    for (index, command) in script.commands.iter().enumerate() {
        if judgements[index].is_some() {
            continue;
        }
        judgements[index] = Some(match &command.kind {
            CommandKind::Unsupported(why) => skipped(why.clone()),
            CommandKind::Register { .. } => {
                skipped("registering only matters for linking, which is not run here")
            }
            CommandKind::Action { .. } => match plan.acts_on.get(&index) {
                Some(None) => skipped("no module to act on"),
                _ => skipped("its module was not run"),
            },
            CommandKind::ModuleAssertion { .. } if lacking => {
                skipped(format!("the file needs features {} lacks", spec.name))
            }
            CommandKind::ModuleAssertion { module, expect } => {
                judge_module_assertion(spec, lineup, module.as_deref(), expect)
            }
            CommandKind::Module { .. } => unreachable!("every module is an instance"),
        });
    }
    (
        judgements.into_iter().map(|j| j.expect("judged")).collect(),
        outcomes,
    )
}

fn case(module: &[u8], plan: Plan) -> TestCase {
    TestCase {
        module: module.to_vec(),
        plan,
        generator: Generator::File,
    }
}

/// Runs `case` on the lineup's one engine.
fn execute(lineup: &mut Lineup, case: &TestCase) -> Execution {
    lineup.execute(case).remove(0)
}

fn judge_module_assertion(
    spec: &EngineSpec,
    lineup: &mut Lineup,
    module: Option<&[u8]>,
    expect: &ModuleExpect,
) -> Judgement {
    let Some(module) = module else {
        return skipped("a text-format case: it tests the text parser, engines take binaries");
    };
    match expect {
        ModuleExpect::Invalid | ModuleExpect::Malformed => {
            if !spec.abilities.validation {
                return skipped(format!("{} does not validate modules up front", spec.name));
            }
            match execute(lineup, &case(module, Plan::Validate)) {
                Execution::Rejected { .. } => Judgement::Passed,
                Execution::Skipped { reason } => skipped(reason),
                other => failed("rejected", other.summary()),
            }
        }
        ModuleExpect::Unlinkable => skipped(
            "linking is wasmdiff's here (spectest definitions), not the engine's: nothing to ask",
        ),
        ModuleExpect::Uninstantiable(kind, message) => {
            let linked = match spectest::link(module) {
                Ok(linked) => linked,
                Err(e) => return skipped(e.to_string()),
            };
            if let Err(why) = spec.features.validate(&linked) {
                return skipped(format!("needs features {} lacks ({why})", spec.name));
            }
            let expected = format!("instantiation trap \"{message}\"");
            match execute(lineup, &case(&linked, Plan::Calls(Vec::new()))) {
                Execution::InstantiationFailed { trap }
                    if kind.is_none_or(|k| trap.kind.agrees_with(&k)) =>
                {
                    Judgement::Passed
                }
                Execution::Skipped { reason } => skipped(reason),
                other => failed(expected, other.summary()),
            }
        }
    }
}

/// Runs an instance's actions as one plan (again from a fresh instance after a call that
/// stops a run, as stack exhaustion does, replaying the calls before it); a `get` reads the
/// state after the calls before it. The module command's judgement, and per action its
/// judgement and outcome.
fn run_instance(
    spec: &EngineSpec,
    lineup: &mut Lineup,
    script: &Script,
    instance: &Instance,
) -> (Judgement, Vec<(Judgement, Option<CallOutcome>)>) {
    let all_skipped = |reason: String| {
        let actions = instance
            .actions
            .iter()
            .map(|_| (skipped(reason.clone()), None))
            .collect();
        (skipped(reason), actions)
    };
    let module = match &instance.module {
        Ok(module) => module,
        Err(e) => return all_skipped(e.to_string()),
    };
    if let Err(why) = spec.features.validate(module) {
        return all_skipped(format!("needs features {} lacks ({why})", spec.name));
    }
    if !instance.instantiate {
        let judgement = match spec.abilities.validation {
            false => skipped(format!("{} does not validate modules up front", spec.name)),
            true => match execute(lineup, &case(module, Plan::Validate)) {
                Execution::Accepted => Judgement::Passed,
                Execution::Skipped { reason } => skipped(reason),
                other => failed("accepted", other.summary()),
            },
        };
        return (judgement, Vec::new());
    }
    // Actions after the state is shared, or after an invoke that cannot be made, are not
    // judged: the instance's state would not be the script's.
    let impossible = instance.actions.iter().position(|&i| {
        matches!(
            &script.commands[i].kind,
            CommandKind::Action {
                action: Action::Impossible(_),
                ..
            }
        )
    });
    let trusted = instance
        .actions
        .iter()
        .take_while(|&&i| instance.shared_from.is_none_or(|from| i < from))
        .count()
        .min(impossible.unwrap_or(usize::MAX));
    let actions: Vec<&Command> = instance.actions[..trusted]
        .iter()
        .map(|&i| &script.commands[i])
        .collect();
    let invocations: Vec<(usize, Invocation)> = actions
        .iter()
        .enumerate()
        .filter_map(|(i, command)| match &command.kind {
            CommandKind::Action {
                action: Action::Invoke { name, args },
                ..
            } => Some((
                i,
                Invocation {
                    export: name.clone(),
                    args: args.clone(),
                },
            )),
            _ => None,
        })
        .collect();
    let mut results: Vec<Option<CallOutcome>> = vec![None; actions.len()];
    // Calls that stopped a run: left out when the calls before a later one are replayed.
    let mut stoppers: Vec<usize> = Vec::new();
    let mut from = 0;
    while from < invocations.len() {
        let replay: Vec<Invocation> = invocations[..from]
            .iter()
            .filter(|(i, _)| !stoppers.contains(i))
            .map(|(_, inv)| inv.clone())
            .collect();
        let replayed = replay.len();
        let plan = replay
            .into_iter()
            .chain(invocations[from..].iter().map(|(_, inv)| inv.clone()))
            .collect();
        let execution = execute(lineup, &case(module, Plan::Calls(plan)));
        let Execution::Ran { calls, .. } = execution else {
            let judgement = match execution {
                Execution::Skipped { reason } => skipped(reason),
                other => failed("instantiated", other.summary()),
            };
            let reason = "its module did not run".to_string();
            let actions = actions
                .iter()
                .map(|_| (skipped(reason.clone()), None))
                .collect();
            return (judgement, actions);
        };
        let fresh = calls.get(replayed..).unwrap_or(&[]);
        if fresh.is_empty() {
            // The replay itself stopped: the calls after it stay unjudged.
            break;
        }
        for (k, outcome) in fresh.iter().enumerate() {
            results[invocations[from + k].0] = Some(outcome.clone());
        }
        let done = from + fresh.len();
        if done >= invocations.len() {
            break;
        }
        // The run stopped at its last call (an inconclusive outcome): go on after it.
        stoppers.push(invocations[done - 1].0);
        from = done;
    }
    let cut_by_impossible = impossible == Some(trusted);
    let untrusted = instance.actions[trusted..].iter().map(|&i| {
        let reason = match &script.commands[i].kind {
            CommandKind::Action {
                action: Action::Impossible(why),
                ..
            } => why.clone(),
            _ if cut_by_impossible => "an earlier invoke of its module could not be made".into(),
            _ => "another module shares its module's state, which engines here cannot".into(),
        };
        (skipped(reason), None)
    });
    let judged = actions
        .iter()
        .enumerate()
        .map(|(i, command)| {
            let CommandKind::Action { action, expect, .. } = &command.kind else {
                unreachable!("an instance's commands are actions")
            };
            match action {
                Action::Impossible(_) => unreachable!("untrusted from here"),
                Action::Invoke { .. } => match &results[i] {
                    Some(outcome) => (judge(outcome, expect), Some(outcome.clone())),
                    None => (skipped("an earlier call ended the run"), None),
                },
                Action::Get { global } => {
                    let before: Vec<Invocation> = invocations
                        .iter()
                        .filter(|(at, _)| *at < i && !stoppers.contains(at))
                        .map(|(_, inv)| inv.clone())
                        .collect();
                    let outcome = get(lineup, module, before, global);
                    (judge(&outcome, expect), Some(outcome))
                }
            }
        })
        .chain(untrusted)
        .collect();
    (Judgement::Passed, judged)
}

/// The value of exported global `global` after `calls`, as the outcome of a call.
fn get(lineup: &mut Lineup, module: &[u8], calls: Vec<Invocation>, global: &str) -> CallOutcome {
    let trap = |why: String| {
        CallOutcome::Trapped(wasmdiff_engines::Trap::new(TrapKind::Unclassified, why))
    };
    match execute(lineup, &case(module, Plan::Calls(calls))) {
        Execution::Ran { exports, .. } => match exports.iter().find(|e| e.name == global) {
            Some(wasmdiff_engines::ExportState {
                value: wasmdiff_engines::ExportValue::Global(value),
                ..
            }) => CallOutcome::Returned(vec![*value]),
            Some(other) => trap(format!("`{global}` reads as {}", other.value)),
            None => trap(format!("no exported global `{global}`")),
        },
        other => trap(other.summary()),
    }
}

fn judge(outcome: &CallOutcome, expect: &Expect) -> Judgement {
    match (expect, outcome) {
        (Expect::Anything, _) => Judgement::Passed,
        (Expect::Values(patterns), CallOutcome::Returned(values))
            if patterns.len() == values.len()
                && patterns.iter().zip(values).all(|(p, v)| p.matches(v)) =>
        {
            Judgement::Passed
        }
        (Expect::Values(patterns), got) => {
            let expected: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
            failed(expected.join(" "), got.to_string())
        }
        (Expect::Trap(kind, _), CallOutcome::Trapped(trap))
            if kind.is_none_or(|k| trap.kind.agrees_with(&k)) =>
        {
            Judgement::Passed
        }
        (Expect::Trap(_, message), got) => failed(format!("trap \"{message}\""), got.to_string()),
        (Expect::Exhaustion, CallOutcome::Trapped(trap))
            if trap.kind == TrapKind::StackExhausted =>
        {
            Judgement::Passed
        }
        (Expect::Exhaustion, got) => failed("call stack exhausted", got.to_string()),
    }
}

/// One engine's totals on one file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Cell {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Commands where this engine is outside the largest class of engines that ran them.
    pub disagreements: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<Failure>,
    /// Lines of the failed commands (for the baseline).
    pub failed_lines: Vec<usize>,
    /// Why commands were skipped, with counts.
    pub skip_reasons: BTreeMap<String, usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub line: usize,
    pub command: String,
    pub expected: String,
    pub got: String,
}

/// Engines × files.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Matrix {
    pub engines: Vec<String>,
    pub versions: Vec<String>,
    /// `(file, one cell per engine)`, in the order run.
    pub files: Vec<(String, Vec<Cell>)>,
}

impl Matrix {
    pub fn new(specs: &[&'static EngineSpec]) -> Matrix {
        Matrix {
            engines: specs.iter().map(|s| s.name.to_string()).collect(),
            versions: specs.iter().map(|s| (s.version)()).collect(),
            files: Vec::new(),
        }
    }

    /// Adds a script's results as a row, its file named relative to `root`.
    pub fn add(&mut self, result: &ScriptResult, root: &Path) {
        let name = Path::new(&result.file)
            .strip_prefix(root)
            .map_or(result.file.clone(), |p| p.display().to_string());
        let mut cells = vec![Cell::default(); self.engines.len()];
        for command in &result.commands {
            let odd = odd_engines(command);
            for (engine, judgement) in command.judgements.iter().enumerate() {
                let cell = &mut cells[engine];
                cell.disagreements += usize::from(odd.contains(&engine));
                match judgement {
                    Judgement::Passed => cell.passed += 1,
                    Judgement::Skipped { reason } => {
                        cell.skipped += 1;
                        *cell.skip_reasons.entry(reason.clone()).or_default() += 1;
                    }
                    Judgement::Failed { expected, got } => {
                        cell.failed += 1;
                        cell.failed_lines.push(command.line);
                        cell.first_failure.get_or_insert_with(|| Failure {
                            line: command.line,
                            command: command.what.clone(),
                            expected: expected.clone(),
                            got: got.clone(),
                        });
                    }
                }
            }
        }
        self.files.push((name, cells));
    }

    /// Each engine's totals over every file.
    pub fn totals(&self) -> Vec<Cell> {
        let mut totals = vec![Cell::default(); self.engines.len()];
        for (_, cells) in &self.files {
            for (total, cell) in totals.iter_mut().zip(cells) {
                total.passed += cell.passed;
                total.failed += cell.failed;
                total.skipped += cell.skipped;
                total.disagreements += cell.disagreements;
            }
        }
        totals
    }
}

/// The engines that passed a command where most failed it, or failed where most passed: a
/// disagreement among the engines that ran it, as a vote sees it.
fn odd_engines(command: &CommandResult) -> Vec<usize> {
    if !command.engines_disagree {
        return Vec::new();
    }
    let ran: Vec<(usize, bool)> = command
        .judgements
        .iter()
        .enumerate()
        .filter_map(|(i, j)| match j {
            Judgement::Passed => Some((i, true)),
            Judgement::Failed { .. } => Some((i, false)),
            Judgement::Skipped { .. } => None,
        })
        .collect();
    let passing = ran.iter().filter(|(_, p)| *p).count();
    let majority = passing * 2 >= ran.len();
    ran.into_iter()
        .filter(|(_, p)| *p != majority)
        .map(|(i, _)| i)
        .collect()
}

/// The `.wast` files at `path` (the file, or every `.wast` below a directory, sorted).
pub fn find_scripts(path: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    use anyhow::Context;
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    let entries =
        std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            found.extend(find_scripts(&entry)?);
        } else if entry.extension().is_some_and(|e| e == "wast") {
            found.push(entry);
        }
    }
    Ok(found)
}
