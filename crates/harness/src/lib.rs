//! The differential pipeline and the campaigns built on it.

pub mod artifact;
pub mod campaign;
pub mod differential;
pub mod fuzz_corpus;
pub mod fuzzing;
pub mod inputs;
pub mod portability;
pub mod replay;
pub mod seeds;
pub mod shrink;
pub mod sweep;
pub mod wast;

pub use campaign::{CampaignConfig, EngineStats, Found, Slot, Stats, SweepPlan};
pub use differential::{CaseMaker, Checked, Differential, Target};
