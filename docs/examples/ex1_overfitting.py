# --8<-- [start:setup]
import d2lrnn

EPOCHS = 200
backend = d2lrnn.get_backend()  # $D2LRNN_BACKEND, else torch
# a small training set (5,000 characters) and a held-out set right after it
data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, num_train=5000, num_val=5000, seed=0)
V = len(data.vocab)


def run(num_hiddens, epochs, clip, lr=1.0):
    """Train a concise RNN; return its per-epoch (train, validation) perplexities."""
    backend.seed(0)
    model = backend.RNN(num_inputs=V, num_outputs=V, num_hiddens=num_hiddens, lr=lr)
    trainer = d2lrnn.Trainer(max_epochs=epochs, gradient_clip_val=clip, progress=False)
    try:
        trainer.fit(model, data)
    except d2lrnn.DivergenceError:
        pass  # keep the epochs before the loss blew up
    return [(s.perplexity, s.val_perplexity) for s in trainer.history]
# --8<-- [end:setup]


# --8<-- [start:capacity]
HIDDEN_SIZES = (32, 256)
capacity = {}
for num_hiddens in HIDDEN_SIZES:
    curve = capacity[num_hiddens] = run(num_hiddens, EPOCHS, clip=1.0)
    best = min(range(len(curve)), key=lambda i: curve[i][1])
    print(
        f"{num_hiddens:4d} hidden units: final train {curve[-1][0]:5.2f}, validation "
        f"{curve[-1][1]:5.2f}; "
        f"best validation {curve[best][1]:5.2f} at epoch {best + 1}"
    )
# --8<-- [end:capacity]

# --8<-- [start:clipping]
CLIP_HIDDENS, CLIP_EPOCHS = 256, 50
clipping = {}
for clip in (0.1, 1.0, 10.0, 0.0):  # 0 switches clipping off
    curve = clipping[clip] = run(CLIP_HIDDENS, CLIP_EPOCHS, clip)
    print(f"clip {clip or 'off':>4}: train {curve[-1][0]:6.2f}, validation {curve[-1][1]:6.2f} "
          f"after {len(curve)} epochs")
# --8<-- [end:clipping]
