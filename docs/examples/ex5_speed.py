# --8<-- [start:run]
import d2lrnn

EPOCHS, NUM_TRAIN = 3, 10000
data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, num_train=NUM_TRAIN, seed=0)
V = len(data.vocab)
speeds = {}
for name in d2lrnn.available_backends():
    try:
        backend = d2lrnn.get_backend(name)
    except d2lrnn.BackendError as err:  # installed framework, adapter not there yet
        print(f"{name}: skipped ({err})")
        continue
    for kind, cls in (("concise", backend.RNN), ("scratch", backend.RNNScratch)):
        backend.seed(0)
        model = cls(num_inputs=V, num_outputs=V, num_hiddens=256, lr=1)
        trainer = d2lrnn.Trainer(
            max_epochs=EPOCHS + 1, gradient_clip_val=1, progress=False, val_every=10**9
        )
        trainer.fit(model, data)
        # the first epoch pays for compilation and warm-up
        steady = trainer.history[1:] or trainer.history
        speeds[f"{name}/{kind}"] = sum(s.tokens for s in steady) / sum(s.seconds for s in steady)
    ratio = speeds[f"{name}/concise"] / speeds[f"{name}/scratch"]
    print(f"{name:>10}: concise {speeds[f'{name}/concise']:9,.0f} tokens/s, "
          f"scratch {speeds[f'{name}/scratch']:9,.0f} tokens/s, concise/scratch = {ratio:.2f}")
# --8<-- [end:run]
