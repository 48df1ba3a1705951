//! Shell text equivalent to an Azure Pipelines task, so that command rules
//! (`helm upgrade`, `docker build`, `terraform apply`) and script reach work on
//! task steps as they do on `script:` steps.
//!
//! Only tasks that are thin wrappers around one command line are mapped, and the
//! text is what the task runs (its inline script, `bash <scriptPath>`, or the
//! wrapped CLI with its command and arguments). Other tasks keep `run = None` and
//! are seen through `uses`/`with` only.

use std::collections::BTreeMap;

/// The shell text a task runs, when it wraps one.
pub(super) fn run_text(task: &str, inputs: &BTreeMap<String, String>) -> Option<String> {
    let name = task.split('@').next().unwrap_or(task).trim();
    let get = |key: &str| {
        inputs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let with_args = |cmd: String| match get("arguments").or_else(|| get("scriptArguments")) {
        Some(args) => format!("{cmd} {args}"),
        None => cmd,
    };
    match name {
        "AzureCLI" => {
            if let Some(inline) = get("inlineScript") {
                return Some(inline);
            }
            let script = get("scriptPath")?;
            let shell = match get("scriptType").as_deref() {
                Some("ps" | "pscore") => "pwsh",
                _ => "bash",
            };
            Some(with_args(format!("{shell} {script}")))
        }
        "Bash" | "ShellScript" => match get("filePath").or_else(|| get("scriptPath")) {
            Some(path) if get("targetType").as_deref() != Some("inline") => {
                Some(with_args(format!("bash {path}")))
            }
            _ => get("script"),
        },
        "PowerShell" | "AzurePowerShell" => match get("filePath").or_else(|| get("ScriptPath")) {
            Some(path)
                if !matches!(get("targetType").as_deref(), Some("inline"))
                    && !matches!(get("ScriptType").as_deref(), Some("InlineScript")) =>
            {
                Some(with_args(format!("pwsh {path}")))
            }
            _ => get("script").or_else(|| get("Inline")),
        },
        "CmdLine" => get("script"),
        "PythonScript" => match get("scriptPath") {
            Some(path) if get("scriptSource").as_deref() != Some("inline") => {
                Some(with_args(format!("python {path}")))
            }
            _ => get("script"),
        },
        "Docker" => {
            let command = get("command").unwrap_or_else(|| "buildAndPush".into());
            let dockerfile = get("Dockerfile").unwrap_or_else(|| "Dockerfile".into());
            let context = get("buildContext").unwrap_or_else(|| ".".into());
            let repo = get("repository").unwrap_or_default();
            let build = format!("docker build -f {dockerfile} -t {repo} {context}");
            let push = format!("docker push {repo}");
            Some(match command.as_str() {
                "buildAndPush" => format!("{build}\n{push}"),
                "build" => with_args(build),
                "push" => push,
                other => with_args(format!("docker {other}")),
            })
        }
        "HelmDeploy" => {
            let command = get("command")?;
            let mut parts = vec!["helm".to_string(), command.clone()];
            if matches!(
                command.as_str(),
                "upgrade" | "install" | "delete" | "uninstall" | "rollback"
            ) {
                parts.extend(get("releaseName"));
            }
            if matches!(command.as_str(), "upgrade" | "install") {
                parts.extend(get("chartPath").or_else(|| get("chartName")));
                if let Some(values) = get("overrideValues") {
                    parts.push(format!("--set {values}"));
                }
                if let Some(file) = get("valueFile") {
                    parts.push(format!("-f {file}"));
                }
            }
            if let Some(ns) = get("namespace") {
                parts.push(format!("--namespace {ns}"));
            }
            Some(with_args(parts.join(" ")))
        }
        "Kubernetes" => {
            let command = get("command")?;
            let mut cmd = format!("kubectl {command}");
            if let Some(file) = get("configuration") {
                cmd.push_str(&format!(" -f {file}"));
            }
            Some(with_args(cmd))
        }
        "KubernetesManifest" => match get("action").as_deref() {
            Some("deploy") => Some(format!(
                "kubectl apply -f {}",
                get("manifests").unwrap_or_default()
            )),
            Some("delete") => Some(with_args("kubectl delete".into())),
            _ => None,
        },
        "AzureResourceManagerTemplateDeployment" | "AzureResourceGroupDeployment" => {
            let template = get("csmFile").unwrap_or_default();
            Some(format!(
                "az deployment group create --template-file {template}"
            ))
        }
        "TerraformTaskV1" | "TerraformTaskV2" | "TerraformTaskV3" | "TerraformTaskV4"
        | "TerraformCLI" | "TerraformInstaller" => {
            let command = get("command")?;
            Some(with_args(format!("terraform {command}")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn azure_cli_inline_and_script_path() {
        assert_eq!(
            run_text(
                "AzureCLI@2",
                &inputs(&[("inlineScript", "az ml job create -f x.yml")])
            ),
            Some("az ml job create -f x.yml".into())
        );
        assert_eq!(
            run_text(
                "AzureCLI@2",
                &inputs(&[("scriptPath", "deploy.sh"), ("arguments", "prod")])
            ),
            Some("bash deploy.sh prod".into())
        );
    }

    #[test]
    fn docker_build_and_push_is_default() {
        let text = run_text("Docker@2", &inputs(&[("repository", "acr/img")])).unwrap();
        assert!(text.starts_with("docker build"), "{text}");
        assert!(text.contains("\ndocker push acr/img"), "{text}");
    }

    #[test]
    fn helm_deploy_maps_override_values_to_set() {
        let text = run_text(
            "HelmDeploy@0",
            &inputs(&[
                ("command", "upgrade"),
                ("releaseName", "istio"),
                ("chartPath", "charts/x"),
                ("overrideValues", "weight.blue=50,weight.green=50"),
            ]),
        )
        .unwrap();
        assert_eq!(
            text,
            "helm upgrade istio charts/x --set weight.blue=50,weight.green=50"
        );
        let delete = run_text(
            "HelmDeploy@0",
            &inputs(&[
                ("command", "delete"),
                ("arguments", "model-blue --namespace ab"),
            ]),
        )
        .unwrap();
        assert_eq!(delete, "helm delete model-blue --namespace ab");
    }

    #[test]
    fn bash_inline_versus_file() {
        assert_eq!(
            run_text(
                "Bash@3",
                &inputs(&[("targetType", "inline"), ("script", "pytest")])
            ),
            Some("pytest".into())
        );
        assert_eq!(
            run_text("Bash@3", &inputs(&[("filePath", "ci/test.sh")])),
            Some("bash ci/test.sh".into())
        );
    }

    #[test]
    fn unknown_tasks_have_no_run_text() {
        assert_eq!(run_text("PublishTestResults@2", &inputs(&[])), None);
        assert_eq!(run_text("UsePythonVersion@0", &inputs(&[])), None);
        assert_eq!(run_text("HelmDeploy@0", &inputs(&[])), None);
    }
}
