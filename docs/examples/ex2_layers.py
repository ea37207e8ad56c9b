# --8<-- [start:run]
import json
import os

import d2lrnn

QUICK = os.environ.get("D2LRNN_DOCS_QUICK") == "1"  # the test suite sets this for short runs
EPOCHS = 1 if QUICK else int(os.environ.get("D2LRNN_DOCS_EPOCHS", 100))
backend = d2lrnn.get_backend()  # $D2LRNN_BACKEND, else torch
data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, seed=0)
V = len(data.vocab)

results = {}
for num_layers in (1, 2, 3):
    backend.seed(0)
    model = backend.RNN(num_inputs=V, num_outputs=V, num_hiddens=16 if QUICK else 64, lr=1, num_layers=num_layers)
    trainer = d2lrnn.Trainer(max_epochs=EPOCHS, gradient_clip_val=1, progress=False)
    trainer.fit(model, data)
    s = trainer.summary()
    results[num_layers] = {"curve": [(h.perplexity, h.val_perplexity) for h in trainer.history],
                           "seconds_per_epoch": s["train_seconds"] / s["epochs"], "tokens_per_sec": s["tokens_per_sec"],
                           "sample": model.predict("time traveller", 40, data.vocab)}
    print(f"{num_layers} layer(s): perplexity {s['perplexity']:.2f}, validation {s['val_perplexity']:.2f}, "
          f"{s['train_seconds'] / s['epochs']:.2f} s/epoch")
    print("   ", results[num_layers]["sample"])
# --8<-- [end:run]

if os.environ.get("D2LRNN_DOCS_OUT"):  # scripts/make_figures.py reads the results from here
    with open(os.path.join(os.environ["D2LRNN_DOCS_OUT"], f"ex2_{backend.name}.json"), "w") as f:
        json.dump({"backend": backend.name, "epochs": EPOCHS, "layers": results}, f)
