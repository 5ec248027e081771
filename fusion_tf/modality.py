"""The modality flag every training batch carries: written by the pipeline, read by the model.

It sits below both packages so that the model never imports the data pipeline that feeds it.
"""

PHOTO, CAPTION = 0, 1
