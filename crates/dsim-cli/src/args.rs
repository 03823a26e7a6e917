//! Command-line flags, generated from the core's knob table so that every scenario setting
//! has exactly one flag, named like its URL key, with the same range checks.

use clap::{Arg, ArgAction, ArgMatches, Command};
use dsim_core::{Kind, Knob, Scenario, ScenarioError, knobs, presets, script};

/// Adds `--scenario`, `--preset` and one flag per knob (except those in `skip`).
pub fn scenario_args(mut cmd: Command, skip: &[&str]) -> Command {
    cmd = cmd
        .arg(Arg::new("scenario").long("scenario").value_name("FILE.json").help("Read the scenario from a JSON file (the same Scenario the page uses); flags override it"))
        .arg(Arg::new("preset").long("preset").value_name("NAME").help("Start from a named textbook scenario (see `dsim presets`); flags override it"));
    for k in knobs().iter().filter(|k| !skip.contains(&k.key)) {
        let value_name = match k.kind {
            Kind::Probability => "P".to_string(),
            Kind::Choice(names) => names.join("|"),
            _ if !k.unit.is_empty() => k.unit.to_uppercase(),
            _ => "N".to_string(),
        };
        let defaults = Scenario::default();
        let help = format!("{} [default: {}]", k.help, k.get_text(&defaults));
        cmd = cmd.arg(
            Arg::new(k.key)
                .long(k.key)
                .value_name(value_name)
                .help(help)
                .allow_hyphen_values(true),
        );
    }
    cmd = cmd.arg(
        Arg::new(script::SCRIPT_KEY)
            .long(script::SCRIPT_KEY)
            .value_name("TIMELINE")
            .help("Scripted faults, e.g. '2s:crash-consumer-1-after;3s-4s:partition-broker-producer-0' (crash-consumer-N[-before|-after], crash-broker, partition-broker-producer-N, partition-broker-consumer-N; producers and consumers count from 0); replaces a file's or preset's script")
            .allow_hyphen_values(true),
    );
    cmd.arg(
        Arg::new("json")
            .long("json")
            .action(ArgAction::SetTrue)
            .help("Print JSON instead of a table"),
    )
}

/// Builds the scenario: defaults, then the file or preset, then each flag in table order.
pub fn scenario_from(matches: &ArgMatches) -> Result<Scenario, String> {
    let mut scenario = Scenario::default();
    if let Some(path) = matches.get_one::<String>("scenario") {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        scenario = Scenario::from_json(&text).map_err(|e| format!("{path}: {e}"))?;
    }
    if let Some(name) = matches.get_one::<String>("preset") {
        let preset = presets()
            .iter()
            .find(|p| p.key == name.as_str())
            .ok_or_else(|| format!("preset: no preset named {name:?} (see `dsim presets`)"))?;
        scenario = preset
            .scenario()
            .map_err(|e: ScenarioError| e.to_string())?;
    }
    let mut given = Vec::new();
    // `--broker` first, wherever it stands: each other flag is then checked against the broker
    // it will run on, and one the broker lacks is refused naming that broker.
    let (broker, rest): (Vec<&Knob>, Vec<&Knob>) = knobs().iter().partition(|k| k.key == "broker");
    for k in broker.into_iter().chain(rest) {
        if let Ok(Some(value)) = matches.try_get_one::<String>(k.key) {
            k.set_text(&mut scenario, value)
                .map_err(|e| e.to_string())?;
            given.push(k);
        }
    }
    // Once every flag is in (`--broker` may come last): a flag the broker lacks is refused.
    if let Some(e) = scenario.refuse_inapplicable(&given).into_iter().next() {
        return Err(e.to_string());
    }
    // After every knob flag, so the script is checked against the final consumers and horizon.
    if let Ok(Some(text)) = matches.try_get_one::<String>(script::SCRIPT_KEY) {
        scenario.set_script_text(text).map_err(|e| e.to_string())?;
    }
    scenario.validate().map_err(|e| e.to_string())?;
    command_line_policy(&scenario)?;
    Ok(scenario)
}

/// What the command line refuses on top of the shared validation. A scenario with no consumers
/// is valid (the page and the JS API run it and show it stall, which is the lesson), but on the
/// command line it is almost always a typo, and a run that can only stall would print a report
/// with nothing in it; so, as since the first CLI, it is a one-line error with exit code 2.
pub fn command_line_policy(scenario: &Scenario) -> Result<(), String> {
    if scenario.consumers == 0 {
        return Err(
            "consumers: must be between 1 and 64 on the command line (got 0); with no consumers \
             nothing reads the topic and the run only stalls"
                .into(),
        );
    }
    Ok(())
}
