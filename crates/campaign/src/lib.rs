//! The differential pipeline and the campaigns built on it.

pub mod campaign;
pub mod differential;
pub mod fuzzing;
pub mod inputs;

pub use campaign::{CampaignConfig, EngineStats, Found, Stats};
pub use differential::{Checked, Differential};
