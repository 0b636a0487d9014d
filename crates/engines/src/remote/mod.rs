//! Engines in another process: a worker process for any engine ([`worker`]), node for V8
//! ([`v8`]), WABT's tools ([`wabt`]). Each says how to send a batch of jobs and how to read
//! one job's answer ([`Remote`]); [`Batched`] makes that an [`Engine`] that takes a batch at
//! [`Engine::submit`] and answers it ticket by ticket, written once for all three.

use std::collections::VecDeque;

use wasmdiff_gen::Plan;

use crate::contract::{Engine, Job, Ticket};
use crate::outcome::{CrashKind, Execution};
use crate::progress::Stage;

pub mod process;
#[cfg(feature = "v8")]
pub(crate) mod v8;
#[cfg(feature = "wabt")]
pub(crate) mod wabt;
pub mod worker;

/// What became of a job sent to another process.
pub enum Sent<P> {
    /// On its way: its answer is read with this.
    Away(P),
    /// Answered already, without the process (a module the engine cannot take, a process that
    /// could not be started or took no input).
    Done(Execution),
}

/// An engine in another process, as [`Batched`] drives it.
pub trait Remote: Send {
    /// What is kept of a job sent until its answer is read.
    type Pending: Send;
    /// Sends `jobs`, in order, starting whatever process they need.
    fn send(&mut self, jobs: &[Job<'_>]) -> Vec<Sent<Self::Pending>>;
    /// The answer to a job sent, or `None` where its batch left it unclear (the process died
    /// on an earlier job of the batch, say): the job then runs again, alone, so that an
    /// outcome never depends on its batch. `None` only where no process still owes answers
    /// to the batch's later jobs (a job sent alone must not read one of theirs).
    fn receive(&mut self, pending: Self::Pending, job: Job<'_>) -> Option<Execution>;
}

/// A [`Remote`] engine taking its jobs in batches: [`Engine::submit`] sends them all at
/// once, and each ticket collected reads one answer, in order.
pub struct Batched<R: Remote> {
    remote: R,
    /// The current submission's number (tickets of earlier ones are stale).
    batch: u64,
    /// Its jobs not yet collected, in order, and the index of the first of them.
    sent: VecDeque<Sent<R::Pending>>,
    next: usize,
}

impl<R: Remote> Batched<R> {
    pub fn new(remote: R) -> Batched<R> {
        Batched {
            remote,
            batch: 0,
            sent: VecDeque::new(),
            next: 0,
        }
    }

    /// Sends `job` on its own and reads its answer.
    fn alone(&mut self, job: Job<'_>) -> Execution {
        match self.remote.send(&[job]).pop() {
            Some(Sent::Done(execution)) => execution,
            Some(Sent::Away(pending)) => self.remote.receive(pending, job).unwrap_or_else(|| {
                Execution::crashed(
                    CrashKind::BadAnswer,
                    "no clear answer to a job sent alone".to_string(),
                    Stage::Compile,
                )
            }),
            None => unreachable!("one job sent, one job accounted for"),
        }
    }
}

impl<R: Remote> Engine for Batched<R> {
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution {
        assert!(self.sent.is_empty(), "a job run between submit and collect");
        self.alone(Job { module, plan })
    }

    fn submit(&mut self, jobs: &[Job<'_>]) -> Vec<Ticket> {
        assert!(
            self.sent.is_empty(),
            "a batch submitted before the last one was collected"
        );
        self.batch += 1;
        self.next = 0;
        self.sent = self.remote.send(jobs).into();
        assert_eq!(
            self.sent.len(),
            jobs.len(),
            "every job sent is accounted for"
        );
        Ticket::issue(self.batch, jobs.len())
    }

    fn collect(&mut self, ticket: Ticket, job: Job<'_>) -> Execution {
        if ticket.batch != self.batch && self.sent.is_empty() {
            // Issued before the engine was started afresh (after a panic): nothing of it is left.
            return self.alone(job);
        }
        let expected = Ticket {
            batch: self.batch,
            index: self.next,
        };
        assert_eq!(
            ticket, expected,
            "tickets are collected once each, in order"
        );
        self.next += 1;
        match self.sent.pop_front().expect("a ticket per job sent") {
            Sent::Done(execution) => execution,
            Sent::Away(pending) => match self.remote.receive(pending, job) {
                Some(execution) => execution,
                None => self.alone(job),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers each job with its module's first byte as a rejection message, but leaves the
    /// jobs whose module starts with `?` unclear when they come in a batch.
    #[derive(Default)]
    struct Echo {
        batches: Vec<usize>,
    }

    impl Remote for Echo {
        type Pending = (u8, bool);

        fn send(&mut self, jobs: &[Job]) -> Vec<Sent<(u8, bool)>> {
            self.batches.push(jobs.len());
            let alone = jobs.len() == 1;
            jobs.iter()
                .map(|job| Sent::Away((job.module[0], alone)))
                .collect()
        }

        fn receive(&mut self, (byte, alone): (u8, bool), _: Job) -> Option<Execution> {
            (byte != b'?' || alone).then(|| Execution::Rejected {
                message: (byte as char).to_string(),
            })
        }
    }

    fn message(execution: Execution) -> String {
        match execution {
            Execution::Rejected { message } => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_job_its_batch_leaves_unclear_runs_again_alone() {
        let plan = Plan::Validate;
        let jobs: Vec<Job> = [b"a", b"?", b"c"]
            .iter()
            .map(|module| Job {
                module: &module[..],
                plan: &plan,
            })
            .collect();
        let mut engine = Batched::new(Echo::default());
        let tickets = engine.submit(&jobs);
        let answers: Vec<String> = (tickets.into_iter().zip(&jobs))
            .map(|(ticket, job)| message(engine.collect(ticket, *job)))
            .collect();
        assert_eq!(answers, ["a", "?", "c"]);
        assert_eq!(
            engine.remote.batches,
            [3, 1],
            "the unclear job went again, alone"
        );
    }

    #[test]
    #[should_panic(expected = "in order")]
    fn tickets_are_collected_in_order() {
        let plan = Plan::Validate;
        let job = Job {
            module: b"a",
            plan: &plan,
        };
        let mut engine = Batched::new(Echo::default());
        let mut tickets = engine.submit(&[job, job]);
        let second = tickets.pop().unwrap();
        let _ = engine.collect(second, job);
    }
}
