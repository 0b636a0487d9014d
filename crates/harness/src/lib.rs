//! The differential pipeline and the campaigns built on it.

pub mod artifact;
pub mod campaign;
pub mod differential;
pub mod fuzzing;
pub mod inputs;
pub mod replay;
pub mod shrink;

pub use campaign::{CampaignConfig, EngineStats, Found, Stats};
pub use differential::{Checked, Differential, Target};
