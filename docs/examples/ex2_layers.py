# --8<-- [start:run]
import d2lrnn

EPOCHS, NUM_HIDDENS = 100, 64
backend = d2lrnn.get_backend()  # $D2LRNN_BACKEND, else torch
data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, seed=0)
V = len(data.vocab)

results = {}
for num_layers in (1, 2, 3):
    backend.seed(0)
    model = backend.RNN(
        num_inputs=V, num_outputs=V, num_hiddens=NUM_HIDDENS, lr=1, num_layers=num_layers
    )
    trainer = d2lrnn.Trainer(max_epochs=EPOCHS, gradient_clip_val=1, progress=False)
    trainer.fit(model, data)
    s = trainer.summary()
    results[num_layers] = {
        "curve": [(h.perplexity, h.val_perplexity) for h in trainer.history],
        "seconds_per_epoch": s["train_seconds"] / s["epochs"],
        "tokens_per_sec": s["tokens_per_sec"],
        "sample": model.predict("time traveller", 40, data.vocab),
    }
    print(
        f"{num_layers} layer(s): perplexity {s['perplexity']:.2f}, validation "
        f"{s['val_perplexity']:.2f}, "
        f"{s['train_seconds'] / s['epochs']:.2f} s/epoch"
    )
    print("   ", results[num_layers]["sample"])
# --8<-- [end:run]
