//! The `order-metafields` binary: parses the command line, loads settings, installs
//! telemetry and runs the chosen command. Nothing else.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use order_metafields::config::Settings;
use order_metafields::startup::Application;
use order_metafields::telemetry;

/// Shows signed-in BigCommerce shoppers their own orders and order metafields.
///
/// Configuration comes from environment variables (and a .env file in the working
/// directory, which never overrides them); see .env.example and the README.
#[derive(Parser)]
#[command(name = "order-metafields", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default when no command is given).
    Serve,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
    }
}

fn serve() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("order-metafields: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = telemetry::init(&settings.log) {
        eprintln!("order-metafields: cannot start logging: {error}");
        return ExitCode::FAILURE;
    }
    let result = actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings).await?;
        tracing::info!(port = application.port(), "order-metafields is listening");
        application.run_until_stopped().await?;
        anyhow::Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "order-metafields stopped");
            eprintln!("order-metafields: {error:#}");
            ExitCode::FAILURE
        }
    }
}
