"""Train a new churn model version on the whole history now (analysis.training),
whether or not the version in use was trained on the same history; prints what
happened (a model trained, or why not)."""

from django.core.management.base import BaseCommand

from analysis.training import train


class Command(BaseCommand):
    help = "Train a new churn model version on the history of monthly AUM and print the outcome."

    def handle(self, *args, **options) -> None:
        outcome = train()
        style = self.style.SUCCESS if outcome.trained else self.style.WARNING
        self.stdout.write(style(str(outcome)))
        model = outcome.model
        if model is not None:
            measures = model.metrics
            if "auc" in measures:
                auc, brier = measures["auc"], measures["brier"]
                self.stdout.write(f"hold-out {measures['holdout']}: AUC {auc:.3f}, Brier {brier:.4f}")
            test = model.backtest
            if test:
                self.stdout.write(
                    f"back-test {test['as_of']}: {test['flagged']} flagged, {test['flagged_left']:.1%} left; "
                    f"{test['others']} others, {test['others_left']:.1%} left"
                )
