"""Every wording of class text the project builds from a class name alone."""

# The models' prompts for a class that has no description: its name in a neutral template ensemble.
NAME_PROMPTS = ("a video of {}.", "a clip of {}.", "{}.", "a video showing {}.", "footage of {}.")

# The template backend's descriptions of a class that is not of the embedded world, worded to
# read sensibly for human actions ("apply eye makeup").
TEMPLATES = (
    "{name} is an action seen in a video, recognised by how things move over time.",
    "a short video clip showing {name}.",
    "an example of {name}, from its start to its end.",
    "in this video, {name} happens over several frames.",
)
