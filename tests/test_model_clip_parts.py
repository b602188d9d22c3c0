"""What the video models rely on of open_clip's internals (t2l.model.clip_parts), pinned."""

import torch

from t2l.model import clip_parts as parts
from t2l.model.backbone import create_clip, tokenizer


def tiny_clip():
    torch.manual_seed(0)
    return create_clip("t2l-tiny").eval()


def test_self_attention_computes_what_the_block_computes():
    clip = tiny_clip()
    with torch.no_grad():
        h = torch.randn(3, 65, 128)
        block = parts.image_blocks(clip.visual)[1]
        assert torch.allclose(parts.self_attention(block, h), block.attention(h), atol=1e-5)
        text_block = parts.text_blocks(clip)[0]
        t = torch.randn(2, clip.positional_embedding.shape[0], 128)
        mask = parts.causal_mask(clip)
        assert torch.allclose(parts.self_attention(text_block, t, mask), text_block.attention(t, attn_mask=mask), atol=1e-5)


def test_attention_weights_are_the_blocks_head_averaged_softmax():
    clip = tiny_clip()
    block = parts.image_blocks(clip.visual)[0]
    h = torch.randn(2, 65, 128)
    with torch.no_grad():
        _, expected = block.attn(h, h, h, need_weights=True, average_attn_weights=True)
        assert torch.allclose(parts.attention_weights(block, h), expected, atol=1e-6)


def test_towers_rebuilt_from_parts_equal_open_clips_own_encoders():
    clip = tiny_clip()
    images = torch.randn(2, 3, 64, 64)
    tokens = tokenizer("t2l-tiny")(["a red star at the left", "a small heart"])
    with torch.no_grad():
        x = parts.image_tokens(clip.visual, images)
        for block in parts.image_blocks(clip.visual):
            x = parts.feed_forward(block, x + block.ls_1(parts.self_attention(block, block.ln_1(x))))
        assert torch.allclose(parts.image_pool(clip.visual, x), clip.encode_image(images), atol=1e-5)
        assert parts.project_image_tokens(clip.visual, x).shape == (2, 65, 128)
        y = parts.text_tokens(clip, tokens)
        for block in parts.text_blocks(clip):
            y = parts.feed_forward(block, y + block.ls_1(parts.self_attention(block, block.ln_1(y), parts.causal_mask(clip))))
        assert torch.allclose(parts.text_pool(clip, y, tokens), clip.encode_text(tokens), atol=1e-5)
    assert parts.grid(clip.visual) == (8, 8) and parts.patch_size(clip.visual) == 8 and parts.heads(block) == 4
