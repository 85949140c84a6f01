"""Trains a small BERT-architecture encoder from scratch on SST (token ids prepared by prepare.ts),
or with --architecture cnn / lstm a convolutional classifier / a bidirectional LSTM (whose embedding
table can start from pretrained word vectors), on the three classes or the five fine labels,
and exports it to ONNX with the inputs a Hugging Face BERT export has (input_ids, attention_mask,
token_type_ids -> logits). Run through `npm run train:transformer`; needs Debian's python3-torch.

Seeded and single-process: the same settings on the same machine give the same weights."""
import argparse
import json
import math
import random
import time

import torch
from torch import nn
import torch.nn.functional as F

NEUTRAL = 1  # the three classes: negative, neutral, positive


class Layer(nn.Module):
    """One post-LayerNorm encoder layer as in BERT: self-attention, then a GELU feed-forward."""

    def __init__(self, hidden, heads, ffn, dropout):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.norm1 = nn.LayerNorm(hidden, eps=1e-12)
        self.ff1 = nn.Linear(hidden, ffn)
        self.ff2 = nn.Linear(ffn, hidden)
        self.norm2 = nn.LayerNorm(hidden, eps=1e-12)
        self.drop = nn.Dropout(dropout)

    def split(self, x):
        b, t, h = x.shape
        return x.view(b, t, self.heads, h // self.heads).transpose(1, 2)

    def forward(self, x, bias):
        b, t, h = x.shape
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(h // self.heads) + bias
        attention = self.drop(torch.softmax(scores, dim=-1))
        context = torch.matmul(attention, v).transpose(1, 2).reshape(b, t, h)
        x = self.norm1(x + self.drop(self.out(context)))
        return self.norm2(x + self.drop(self.ff2(F.gelu(self.ff1(x)))))


class Encoder(nn.Module):
    def __init__(self, vocab, positions, hidden, layers, heads, ffn, classes, dropout):
        super().__init__()
        self.tokens = nn.Embedding(vocab, hidden)
        self.positions = nn.Embedding(positions, hidden)
        self.segments = nn.Embedding(2, hidden)
        self.norm = nn.LayerNorm(hidden, eps=1e-12)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList([Layer(hidden, heads, ffn, dropout) for _ in range(layers)])
        self.classifier = nn.Linear(hidden, classes)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, input_ids, attention_mask, token_type_ids):
        t = input_ids.shape[1]
        positions = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.drop(self.norm(self.tokens(input_ids) + self.positions(positions) + self.segments(token_type_ids)))
        mask = attention_mask.to(x.dtype)
        # Padding gets a large negative score, so attention never looks at it.
        bias = (1.0 - mask)[:, None, None, :] * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        # Masked mean over the word pieces: steadier than [CLS] alone for a model trained from scratch.
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        return self.classifier(self.drop(pooled))


class Convolutional(nn.Module):
    """A convolutional sentence classifier (Kim, 2014, with word pieces): filters over 1 to 5
    consecutive pieces, each max-pooled over the text's real pieces, then one linear layer. Takes
    the encoder's inputs (token_type_ids is accepted and unused), so its graph serves the same way
    and merges with the encoder's into one ensemble."""

    def __init__(self, vocab, dim, filters, widths, classes, dropout):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.convs = nn.ModuleList([nn.Conv1d(dim, filters, w, padding=w // 2) for w in widths])
        self.drop = nn.Dropout(dropout)
        self.classifier = nn.Linear(filters * len(widths), classes)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        mask = attention_mask[:, None, :].to(torch.float32)
        # Padding reads as zeros, like the convolution's own edge padding: a text's answer does not
        # depend on how long the other texts of its batch are.
        x = self.drop(self.tokens(input_ids)).transpose(1, 2) * mask
        pooled = []
        for conv in self.convs:
            h = F.relu(conv(x))[:, :, : input_ids.shape[1]]
            # Padding scores far below any real piece, so the max never picks it.
            pooled.append((h * mask - (1.0 - mask) * 10000.0).max(2).values)
        return self.classifier(self.drop(torch.cat(pooled, 1)))


class Recurrent(nn.Module):
    """A bidirectional LSTM over the word-piece embeddings, max-pooled over the text's real pieces,
    then one linear layer. The backward direction reads each text reversed within its own length
    (padding after it), so neither direction ever reads padding before a real piece: a text's
    answer does not depend on the other texts of its batch."""

    def __init__(self, vocab, dim, hidden, classes, dropout):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.forward_lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.backward_lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden, classes)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        mask = attention_mask.to(torch.float32)
        t = input_ids.shape[1]
        lengths = attention_mask.sum(1, keepdim=True)
        steps = torch.arange(t, device=input_ids.device).unsqueeze(0)
        # Position i of the reversed text is piece length-1-i; padding stays where it is.
        reverse = torch.where(steps < lengths, lengths - 1 - steps, steps)
        x = self.drop(self.tokens(input_ids))
        forward_states, _ = self.forward_lstm(x)
        flipped = torch.gather(x, 1, reverse.unsqueeze(2).expand(-1, -1, x.shape[2]))
        backward_states, _ = self.backward_lstm(flipped)
        backward_states = torch.gather(backward_states, 1, reverse.unsqueeze(2).expand(-1, -1, backward_states.shape[2]))
        states = torch.cat([forward_states, backward_states], 2)
        pooled = (states - (1.0 - mask)[:, :, None] * 10000.0).max(1).values
        return self.classifier(self.drop(pooled))


class FoldFine(nn.Module):
    """A model trained on the five fine SST labels answering the three classes: log of each
    class's summed probability (softmax of these is exactly the folded distribution)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        z = self.model(input_ids, attention_mask, token_type_ids)
        return torch.stack([torch.logsumexp(z[:, 0:2], 1), z[:, 2], torch.logsumexp(z[:, 3:5], 1)], 1)


def batches(ids, labels, size, pad, rng, shuffle):
    """Batches of similar length (little padding), in random order when training."""
    order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), rng.random() if shuffle else i))
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    if shuffle:
        rng.shuffle(groups)
    for group in groups:
        longest = max(len(ids[i]) for i in group)
        x = torch.full((len(group), longest), pad, dtype=torch.long)
        m = torch.zeros((len(group), longest), dtype=torch.long)
        for row, i in enumerate(group):
            x[row, :len(ids[i])] = torch.tensor(ids[i])
            m[row, :len(ids[i])] = 1
        yield x, m, torch.tensor([labels[i] for i in group])


def log_probabilities(model, split, pad):
    """[examples, classes] log-probabilities in the split's order."""
    model.eval()
    rows = []
    with torch.no_grad():
        for x, m, _ in batches(split["ids"], split["labels"], 128, pad, random.Random(0), False):
            rows.append(torch.log_softmax(model(x, m, torch.zeros_like(x)), -1))
    # batches() without shuffling goes by (length, index): put the rows back in the split's order.
    order = sorted(range(len(split["ids"])), key=lambda i: (len(split["ids"][i]), i))
    out = torch.empty_like(torch.cat(rows))
    out[torch.tensor(order)] = torch.cat(rows)
    model.train()
    return out


def metrics(predictions, gold):
    classes = sorted(set(gold))
    recall = {c: sum(1 for p, g in zip(predictions, gold) if g == c and p == c) / max(1, gold.count(c)) for c in classes}
    f1 = {}
    for c in classes:
        predicted = predictions.count(c)
        precision = sum(1 for p, g in zip(predictions, gold) if g == c and p == c) / max(1, predicted)
        f1[c] = 0.0 if precision + recall[c] == 0 else 2 * precision * recall[c] / (precision + recall[c])
    accuracy = sum(1 for p, g in zip(predictions, gold) if p == g) / len(gold)
    return {"accuracy": accuracy, "macro_f1": sum(f1.values()) / len(f1), "recall": recall}


def evaluate(model, split, pad, min_neutral_recall):
    """Argmax metrics, and with min_neutral_recall > 0 the best accuracy of a neutral-logit offset
    giving at least that neutral recall (the threshold transformer/calibrate.ts will set)."""
    scores = log_probabilities(model, split, pad)
    gold = split["labels"]
    result = metrics(scores.argmax(-1).tolist(), gold)
    if min_neutral_recall > 0:
        best = None
        for step in range(-20, 81):
            shifted = scores.clone()
            shifted[:, NEUTRAL] += step / 20
            m = metrics(shifted.argmax(-1).tolist(), gold)
            if m["recall"].get(NEUTRAL, 0) >= min_neutral_recall and (best is None or m["accuracy"] > best["accuracy"]):
                best = {"offset": step / 20, **m}
        result["calibrated"] = best
    return result


def initialize_embeddings(table, file):
    """Starts an embedding table from given vectors; the rows without one are drawn at the same
    scale, so a known and an unknown piece start out alike in size."""
    with open(file) as f:
        given = json.load(f)
    if given["dim"] != table.weight.shape[1]:
        raise SystemExit(f"--embeddings: vectors of {given['dim']} dimensions for a table of {table.weight.shape[1]} (set --dim)")
    ids = torch.tensor([int(i) for i in given["rows"]])
    vectors = torch.tensor(list(given["rows"].values()), dtype=torch.float32)
    with torch.no_grad():
        table.weight.normal_(0.0, vectors.std().item())
        table.weight[ids] = vectors


def selection_score(dev, select):
    if select == "calibrated":
        return dev["calibrated"]["accuracy"] if dev.get("calibrated") else 0.0
    return dev["accuracy"]


def export(model, out):
    """ONNX with the inputs and output a Hugging Face BERT export has; batch and length dynamic."""
    example = torch.ones((2, 8), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (example, example, torch.zeros_like(example)),
            out,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["logits"],
            dynamic_axes={name: {0: "batch", 1: "sequence"} for name in ["input_ids", "attention_mask", "token_type_ids"]} | {"logits": {0: "batch"}},
            opset_version=14,
            do_constant_folding=True,
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--architecture", choices=["encoder", "cnn", "lstm"], default="encoder")
    parser.add_argument("--target", choices=["classes", "fine"], default="classes", help="train on the three classes, or on the five fine SST labels (the graph still answers three)")
    parser.add_argument("--select", choices=["accuracy", "calibrated"], default="accuracy", help="the epoch kept: best dev accuracy, or best dev accuracy with the neutral threshold set for --min-neutral-recall")
    parser.add_argument("--min-neutral-recall", type=float, default=0.0)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=128, help="encoder: hidden size; lstm: units each way")
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ffn", type=int, default=512)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--dim", type=int, default=128, help="cnn, lstm: embedding size")
    parser.add_argument("--filters", type=int, default=128, help="cnn: filters per width")
    parser.add_argument("--widths", default="1,2,3,4,5", help="cnn: filter widths in word pieces")
    parser.add_argument("--embeddings", help="cnn, lstm: a JSON file {dim, rows: {token id: vector}} of word vectors to start the embedding table from (the other rows random at the vectors' scale)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N phrases only (a quick trial)")
    parser.add_argument("--untrained", action="store_true", help="export the encoder with its random initial weights (a graph of a given shape for benchmarks); --data then needs only vocab_size, max_length and labels")
    args = parser.parse_args()  # defaults: the shipped 2.0.0's settings

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    with open(args.data) as f:
        data = json.load(f)
    if args.untrained:
        model = Encoder(data["vocab_size"], data["max_length"], args.hidden, args.layers, args.heads, args.ffn, len(data["labels"]), args.dropout)
        export(model.eval(), args.out)
        with open(args.report, "w") as f:
            json.dump({"parameters": sum(p.numel() for p in model.parameters()), "untrained": True}, f)
        return
    pad = data["pad_id"]
    ids = data["phrases"]["ids"] + data["sentences"]["ids"]
    key = "fine" if args.target == "fine" else "labels"
    labels = data["phrases"][key] + data["sentences"][key]
    if args.limit:
        ids, labels = ids[:args.limit], labels[:args.limit]

    outputs = 5 if args.target == "fine" else len(data["labels"])
    if args.architecture == "lstm":
        trained = Recurrent(data["vocab_size"], args.dim, args.hidden, outputs, args.dropout)
    elif args.architecture == "cnn":
        trained = Convolutional(data["vocab_size"], args.dim, args.filters, [int(w) for w in args.widths.split(",")], outputs, args.dropout)
    else:
        trained = Encoder(data["vocab_size"], data["max_length"], args.hidden, args.layers, args.heads, args.ffn, outputs, args.dropout)
    if args.embeddings:
        initialize_embeddings(trained.tokens, args.embeddings)
    # What is evaluated and exported: the three classes either way.
    model = FoldFine(trained) if args.target == "fine" else trained
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    steps = args.epochs * math.ceil(len(ids) / args.batch)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))

    started = time.time()
    history, best = [], None
    for epoch in range(1, args.epochs + 1):
        total, seen = 0.0, 0
        for x, m, y in batches(ids, labels, args.batch, pad, rng, True):
            loss = F.cross_entropy(trained(x, m, torch.zeros_like(x)), y)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total += loss.item() * len(y)
            seen += len(y)
        dev = evaluate(model, data["dev"], pad, args.min_neutral_recall)
        history.append({"epoch": epoch, "train_loss": round(total / seen, 4), "dev": dev, "seconds": round(time.time() - started, 1)})
        print(json.dumps(history[-1]), flush=True)
        # Model selection on dev; the test set is scored once, by the serving code.
        if best is None or selection_score(dev, args.select) > selection_score(best["dev"], args.select):
            best = history[-1]
            best_state = {k: v.clone() for k, v in model.state_dict().items()}

    model.load_state_dict(best_state)
    export(model.eval(), args.out)
    report = {
        "settings": {k: v for k, v in vars(args).items() if k not in ("data", "out", "report")},
        "parameters": sum(p.numel() for p in model.parameters()),
        "examples": len(ids),
        "training_seconds": round(time.time() - started, 1),
        "selected_epoch": best["epoch"],
        "history": history,
        "torch": torch.__version__,
    }
    with open(args.report, "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
