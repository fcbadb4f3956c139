"""tunelab: fine-tune pretrained encoders for NER and text classification.

From Python (a notebook, a script), the commands' work without the command line:

    import tunelab
    run = tunelab.train(["data=conll2003", "trainer.max_epochs=1"])
    run.metrics["test/f1"], run.dir
    tunelab.evaluate(model_dir=run.model_dir, overrides=["split=dev"]).metrics
    tunelab.load(run.model_dir).predict(["Anna Schmidt flew to Paris."])
    tunelab.assistant(model_dir, answers="answers.csv")  # intent models: answers and search
    tunelab.distill(run.model_dir, ["data=conll2003"], layers=3)  # a smaller student

The API lives in `tunelab.api`; importing `tunelab` itself stays light (no torch).
"""

__version__ = "0.1.0"


def train(overrides=(), output_dir=None):
    """`tunelab-train OVERRIDES...`: see `tunelab.api.train`."""
    from tunelab.api import train as run

    return run(overrides, output_dir)


def evaluate(model_dir=None, ckpt_path=None, overrides=(), output_dir=None):
    """`tunelab-eval model_dir=... OVERRIDES...`: see `tunelab.api.evaluate`."""
    from tunelab.api import evaluate as run

    return run(model_dir, ckpt_path, overrides, output_dir)


def distill(teacher, overrides=(), layers=None, output_dir=None):
    """`tunelab distill teacher=... OVERRIDES...`: see `tunelab.api.distill`."""
    from tunelab.api import distill as run

    return run(teacher, overrides, layers, output_dir)


def assistant(model_dir, answers=None, overrides=(), output_dir=None):
    """`tunelab assistant model_dir=... answers=...`: see `tunelab.api.assistant`."""
    from tunelab.api import assistant as run

    return run(model_dir, answers, overrides, output_dir)


def load(model_dir, **settings):
    """An exported model ready to label texts: see `tunelab.api.load`."""
    from tunelab.api import load as run

    return run(model_dir, **settings)
