"""Seed a local MLflow tracking server with a small, known model registry.

Run by tests/mlflow_real.rs with the test venv's python:

    python tests/mlflow/seed.py http://127.0.0.1:PORT

What it creates (the Rust test asserts exactly this; keep both in step):

experiment "churn", repository https://github.com/acme/churn.git
  churn-classifier  v1  commit c1…  accuracy 0.71   stage Archived
                    v2  commit c2…  accuracy 0.78   stage Production (legacy transition)
                    v3  commit c3…  accuracy 0.80   deleted afterwards (a gap in the numbers)
                    v4  commit c4…  accuracy 0.83   alias "champion", logged with a signature
                                                    and an input example, a training dataset input
                    v5  no git tags, no metrics     alias "challenger" (lineage gap)
  fraud-detector    v1, v2  remote git@github.com:acme/churn.git (ssh form of the same repo)
                    v1 stage Archived, v2 stage Production
experiment "other", repository https://github.com/other/thing
  other-team-model  v1  never matched by repository URL

Prints one JSON line describing the run ids and commits, for the test to compare.
"""

import json
import sys

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

REPO = "https://github.com/acme/churn.git"
REPO_SSH = "git@github.com:acme/churn.git"
OTHER_REPO = "https://github.com/other/thing"


class Identity(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


def git_tags(repo, commit):
    return {
        "mlflow.source.git.commit": commit,
        "mlflow.source.git.repoURL": repo,
        "mlflow.gitRepoURL": repo,
        "mlflow.source.type": "PROJECT",
    }


def main(uri):
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    out = {"runs": {}}

    def version_from_run(model, run_id, artifact="model"):
        mv = client.create_model_version(
            model, source=f"runs:/{run_id}/{artifact}", run_id=run_id
        )
        return mv.version

    # --- churn-classifier -------------------------------------------------
    mlflow.set_experiment("churn")
    client.create_registered_model(
        "churn-classifier", description="Churn model", tags={"team": "growth"}
    )
    for i, acc in enumerate([0.71, 0.78, 0.80], start=1):
        commit = f"c{i}" + "0" * 38
        with mlflow.start_run(tags=git_tags(REPO, commit)) as run:
            mlflow.log_param("max_depth", 3 + i)
            mlflow.log_metric("accuracy", acc)
        v = version_from_run("churn-classifier", run.info.run_id)
        out["runs"][f"churn-classifier/{v}"] = {"run": run.info.run_id, "commit": commit}

    # v4: a real logged model with a signature, an input example and a dataset input.
    commit = "c4" + "0" * 38
    df = pd.DataFrame({"tenure": [1.0, 5.0, 12.0], "plan": [0.0, 1.0, 1.0]})
    with mlflow.start_run(tags=git_tags(REPO, commit)) as run:
        mlflow.log_param("max_depth", 7)
        mlflow.log_metric("accuracy", 0.83)
        mlflow.log_metric("f1", 0.79)
        mlflow.log_input(mlflow.data.from_pandas(df, name="churn-train"), context="training")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=Identity(),
            signature=infer_signature(df, df),
            input_example=df.head(2),
            pip_requirements=["mlflow"],
            registered_model_name="churn-classifier",
        )
    out["runs"]["churn-classifier/4"] = {
        "run": run.info.run_id,
        "commit": commit,
        "model_id": getattr(info, "model_id", None),
    }

    # v5: no lineage at all (created by hand from an untagged run without metrics).
    # The low-level client adds no context tags (the fluent API would record the git
    # commit of the checkout this script lives in).
    experiment_id = mlflow.get_experiment_by_name("churn").experiment_id
    bare = client.create_run(experiment_id)
    client.set_terminated(bare.info.run_id)
    v = version_from_run("churn-classifier", bare.info.run_id)
    out["runs"][f"churn-classifier/{v}"] = {"run": bare.info.run_id, "commit": None}

    client.transition_model_version_stage("churn-classifier", "1", "Archived")
    client.transition_model_version_stage("churn-classifier", "2", "Production")
    client.set_registered_model_alias("churn-classifier", "champion", "4")
    client.set_registered_model_alias("churn-classifier", "challenger", "5")
    client.delete_model_version("churn-classifier", "3")

    # --- fraud-detector: same repository, ssh remote form ----------------
    client.create_registered_model("fraud-detector")
    for i, auc in enumerate([0.90, 0.93], start=1):
        commit = f"f{i}" + "0" * 38
        with mlflow.start_run(tags=git_tags(REPO_SSH, commit)) as run:
            mlflow.log_metric("auc", auc)
        v = version_from_run("fraud-detector", run.info.run_id)
        out["runs"][f"fraud-detector/{v}"] = {"run": run.info.run_id, "commit": commit}
    client.transition_model_version_stage("fraud-detector", "1", "Archived")
    client.transition_model_version_stage("fraud-detector", "2", "Production")

    # --- another team's model: must not be tied to acme/churn ------------
    mlflow.set_experiment("other")
    client.create_registered_model("other-team-model")
    with mlflow.start_run(tags=git_tags(OTHER_REPO, "e" * 40)) as run:
        mlflow.log_metric("rmse", 1.5)
    version_from_run("other-team-model", run.info.run_id)

    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: seed.py TRACKING_URI")
    main(sys.argv[1])
