//! Findings and cases on disk: reports, crash-safe finding directories.

pub mod files;
pub mod report;
pub mod store;

pub use files::read_module;
pub use report::{EngineOutcome, EngineRecord, Origin, Report, describe};
pub use store::{finding_name, module_text, save_finding};
